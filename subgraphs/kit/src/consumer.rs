//! Durable, idempotent event consumers.
//!
//! Each consumer is a durable JetStream pull consumer (one per subgraph and purpose) with
//! explicit acknowledgement. A handler runs in a database transaction that also inserts the
//! event id into `processed_events`; the commit is what makes the effect happen, and the
//! message is acknowledged only after it. So a consumer killed mid-handling leaves nothing
//! behind and the event is redelivered; an event delivered twice finds its id already
//! processed and is acknowledged without a second effect.
//!
//! A handler that keeps failing is retried with growing delays, at most `max_deliver` times;
//! then (or at once, for a permanent failure) the event is written to `dead_letters`, where
//! it can be listed and replayed through the same handler once the cause is fixed (an
//! operator asks with `events dead-letters replay`; the consumer's process runs it). A handler
//! that needs a fact not there yet (a client another consumer has not projected) says
//! [`HandlerError::NotYet`]: it is retried with a long, capped back-off for as long as
//! `max_wait` after the event was published, before any dead letter.

use std::{future::Future, time::Duration};

use anyhow::Context;
use async_nats::jetstream::{self, consumer::pull, AckKind};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;
use uuid::Uuid;

use crate::events::{ensure_stream, Envelope, EventSet, EventsSettings};

/// Why a handler did not complete.
#[derive(Debug)]
pub enum HandlerError {
    /// Worth retrying (a dependency is down, a lock timed out…).
    Transient(anyhow::Error),
    /// Retrying will not help (the event cannot be processed as it is): dead-letter it now.
    Permanent(anyhow::Error),
    /// Something the event depends on has not arrived yet (another consumer lags behind, a
    /// producer's relay is late): wait for it, minutes if need be.
    NotYet(anyhow::Error),
}

impl From<sqlx::Error> for HandlerError {
    fn from(err: sqlx::Error) -> Self {
        HandlerError::Transient(err.into())
    }
}

/// Handles one event inside the transaction that marks it processed.
pub trait Handler: Send + Sync + 'static {
    /// The events it hears, decoded before `handle` runs: an event that does not decode is
    /// dead-lettered at once.
    type Events: EventSet;
    /// What the handler hands over to `committed`.
    type Output: Send;

    fn handle<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        envelope: &'a Envelope,
        event: Self::Events,
    ) -> impl Future<Output = Result<Self::Output, HandlerError>> + Send + 'a;

    /// Runs after the transaction committed: for best-effort side effects that must never
    /// announce an uncommitted change (live notifications). Not retried.
    fn committed(&self, _output: Self::Output) -> impl Future<Output = ()> + Send {
        async {}
    }
}

impl HandlerError {
    /// A permanent failure from a message.
    pub fn permanent(message: impl std::fmt::Display) -> Self {
        HandlerError::Permanent(anyhow::anyhow!("{message}"))
    }

    /// A transient failure from a message.
    pub fn transient(message: impl std::fmt::Display) -> Self {
        HandlerError::Transient(anyhow::anyhow!("{message}"))
    }

    /// A dependency not there yet, from a message.
    pub fn not_yet(message: impl std::fmt::Display) -> Self {
        HandlerError::NotYet(anyhow::anyhow!("{message}"))
    }
}

impl From<crate::error::Error> for HandlerError {
    /// Client errors say the event cannot be applied as it is; internal ones may pass.
    fn from(err: crate::error::Error) -> Self {
        use crate::error::Error;
        match err {
            Error::Database(err) => HandlerError::Transient(err.into()),
            Error::Internal(err) => HandlerError::Transient(err),
            other => HandlerError::Permanent(anyhow::anyhow!("{other:?}")),
        }
    }
}

/// A consumer's identity and delivery policy.
#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    /// The durable name, unique per subgraph and purpose (`engagement-notifications`).
    pub name: String,
    /// Event types it receives (`client.created`…).
    pub event_types: Vec<String>,
    /// Deliveries before the event is dead-lettered.
    pub max_deliver: i64,
    /// How long a delivery may stay unacknowledged before JetStream redelivers it.
    pub ack_wait: Duration,
    /// How long after its publication an event may wait for a dependency
    /// ([`HandlerError::NotYet`]) before it is dead-lettered.
    pub max_wait: Duration,
    /// The longest delay between two attempts of an event that waits.
    pub max_wait_delay: Duration,
}

impl ConsumerSpec {
    /// The consumer `name` of `H`'s events.
    pub fn of<H: Handler>(name: &str) -> Self {
        Self::new(name, <H::Events as EventSet>::TYPES)
    }

    pub fn new(name: &str, event_types: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            event_types: event_types.iter().map(|t| (*t).to_owned()).collect(),
            max_deliver: 5,
            ack_wait: Duration::from_secs(30),
            max_wait: Duration::from_secs(3600),
            max_wait_delay: Duration::from_secs(120),
        }
    }

    /// The same consumer with the acknowledgement wait the deployment configures.
    pub fn with_ack_wait(mut self, settings: &EventsSettings) -> Self {
        self.ack_wait = Duration::from_secs(settings.ack_wait_seconds.max(1));
        self
    }

    /// Delay before the next attempt after `delivered` failed deliveries.
    fn retry_delay(&self, delivered: i64) -> Duration {
        let exponent = u32::try_from(delivered.clamp(1, 10) - 1).unwrap_or(0);
        (Duration::from_millis(200) * 2u32.pow(exponent)).min(Duration::from_secs(60))
    }

    /// Delay before the next attempt of an event waiting for a dependency, after `delivered`
    /// deliveries: 1 s, doubling, at most `max_wait_delay`.
    fn wait_delay(&self, delivered: i64) -> Duration {
        let exponent = u32::try_from(delivered.clamp(1, 16) - 1).unwrap_or(0);
        (Duration::from_secs(1) * 2u32.pow(exponent)).min(self.max_wait_delay)
    }
}

/// One delivery of a message: how many times it was delivered, and how long ago it was
/// published.
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    pub count: i64,
    pub age: Duration,
}

impl Delivery {
    /// The first delivery of a message published just now.
    pub fn first() -> Self {
        Self {
            count: 1,
            age: Duration::ZERO,
        }
    }
}

/// What processing one event amounted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Processed,
    /// Its id was already in `processed_events`.
    AlreadyProcessed,
    Retried,
    /// Waiting for a dependency: tried again after that delay.
    Waiting(Duration),
    DeadLettered,
}

/// Runs `handler` on `event` in one transaction with its `processed_events` row.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn process<H: Handler>(
    pool: &PgPool,
    consumer: &str,
    handler: &H,
    event: &Envelope,
) -> Result<bool, HandlerError> {
    let mut tx = pool.begin().await?;
    let fresh = sqlx::query!(
        "insert into processed_events (consumer, event_id, event_type) values ($1, $2, $3)
         on conflict do nothing",
        consumer,
        event.id,
        event.event_type,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !fresh {
        return Ok(false);
    }
    let decoded = H::Events::decode(event).map_err(|e| HandlerError::Permanent(e.into()))?;
    let output = handler.handle(&mut tx, event, decoded).await?;
    tx.commit().await?;
    handler.committed(output).await;
    Ok(true)
}

async fn dead_letter(
    pool: &PgPool,
    consumer: &str,
    event: &serde_json::Value,
    event_id: Uuid,
    event_type: &str,
    error: &str,
    attempts: i64,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into dead_letters (consumer, event_id, event_type, envelope, error, attempts)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (consumer, event_id) do update
         set error = excluded.error, attempts = dead_letters.attempts + excluded.attempts,
             failed_at = now(), replayed_at = null",
        consumer,
        event_id,
        event_type,
        event,
        error,
        i32::try_from(attempts).unwrap_or(i32::MAX),
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Creates (or updates) the durable consumer and handles its messages until `shutdown`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn run<H: Handler>(
    pool: PgPool,
    client: async_nats::Client,
    settings: EventsSettings,
    spec: ConsumerSpec,
    handler: H,
    shutdown: watch::Receiver<bool>,
) {
    let replays = replay_requested(&pool, &spec.name, &handler, shutdown.clone());
    let deliveries = deliver(&pool, client, &settings, &spec, &handler, shutdown);
    tokio::join!(replays, deliveries);
}

/// Handles deliveries, reconnecting with backoff when the consumer is interrupted.
async fn deliver<H: Handler>(
    pool: &PgPool,
    client: async_nats::Client,
    settings: &EventsSettings,
    spec: &ConsumerSpec,
    handler: &H,
    mut shutdown: watch::Receiver<bool>,
) {
    let js = jetstream::new(client);
    let mut backoff = Duration::from_millis(200);
    while !*shutdown.borrow() {
        let session = consume(pool, &js, settings, spec, handler, &mut shutdown).await;
        if let Err(err) = session {
            tracing::warn!(consumer = %spec.name, error = %format!("{err:#}"), retry_in = ?backoff, "consumer interrupted");
            tokio::select! {
                _ = shutdown.changed() => {}
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(30));
        } else {
            backoff = Duration::from_millis(200);
        }
    }
}

async fn consume<H: Handler>(
    pool: &PgPool,
    js: &jetstream::Context,
    settings: &EventsSettings,
    spec: &ConsumerSpec,
    handler: &H,
    shutdown: &mut watch::Receiver<bool>,
) -> anyhow::Result<()> {
    ensure_stream(js, settings).await?;
    let stream = js.get_stream(&settings.stream).await?;
    let subjects: Vec<String> = spec
        .event_types
        .iter()
        .map(|t| settings.subject(t))
        .collect();
    // Servers before 2.10 ignore `filter_subjects` (several subjects) and deliver the whole
    // stream; one subject goes in `filter_subject`, which every server honours. Messages of
    // other subjects are acknowledged unseen below either way.
    let (filter_subject, filter_subjects) = match subjects.as_slice() {
        [one] => (one.clone(), Vec::new()),
        _ => (String::new(), subjects.clone()),
    };
    let config = pull::Config {
        durable_name: Some(spec.name.clone()),
        filter_subject,
        filter_subjects,
        ack_policy: jetstream::consumer::AckPolicy::Explicit,
        ack_wait: spec.ack_wait,
        // JetStream must never give up on its own: deliveries made to a dead consumer's
        // leftover pull request still count, and an event that ran out of deliveries that way
        // would vanish unseen. The bound is applied here instead (see `handle_message`), so
        // every exhausted event ends as a dead letter.
        max_deliver: -1,
        ..Default::default()
    };
    let consumer: jetstream::consumer::PullConsumer = stream
        .create_consumer(config)
        .await
        .with_context(|| format!("cannot create the consumer {}", spec.name))?;
    // Short-lived pull requests: a killed consumer's outstanding ones expire quickly.
    let mut messages = consumer
        .stream()
        .expires(Duration::from_secs(5))
        .heartbeat(Duration::from_secs(2))
        .messages()
        .await?;
    loop {
        let message = tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            next = messages.next() => match next {
                Some(message) => message?,
                None => return Ok(()),
            },
        };
        if !subjects
            .iter()
            .any(|s| s.as_str() == message.subject.as_str())
        {
            message
                .ack()
                .await
                .map_err(|e| anyhow::anyhow!("cannot acknowledge: {e}"))?;
            continue;
        }
        let delivery = match message.info() {
            Ok(info) => Delivery {
                count: info.delivered,
                age: Duration::from_secs(
                    u64::try_from(Utc::now().timestamp() - info.published.unix_timestamp())
                        .unwrap_or(0),
                ),
            },
            Err(_) => Delivery::first(),
        };
        let arrived_as = message
            .subject
            .as_str()
            .strip_prefix(settings.subject_prefix.as_str())
            .and_then(|rest| rest.strip_prefix('.'));
        let outcome =
            handle_message(pool, spec, handler, &message.payload, delivery, arrived_as).await?;
        tracing::debug!(consumer = %spec.name, subject = %message.subject, delivered = delivery.count, ?outcome, "event handled");
        let ack = match outcome {
            Outcome::Processed | Outcome::AlreadyProcessed | Outcome::DeadLettered => AckKind::Ack,
            Outcome::Retried => AckKind::Nak(Some(spec.retry_delay(delivery.count))),
            Outcome::Waiting(delay) => AckKind::Nak(Some(delay)),
        };
        message
            .ack_with(ack)
            .await
            .map_err(|e| anyhow::anyhow!("cannot acknowledge: {e}"))?;
    }
}

/// Processes one delivery and says what to tell JetStream. Errors only when the database is
/// unusable (then nothing is acknowledged and the event comes back).
///
/// `arrived_as` is the event type the message's subject names: an envelope of another type
/// is refused (dead-lettered), since the bus lets each producer publish only its own
/// subjects — the subject, not the envelope, says who sent it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn handle_message<H: Handler>(
    pool: &PgPool,
    spec: &ConsumerSpec,
    handler: &H,
    payload: &[u8],
    delivery: Delivery,
    arrived_as: Option<&str>,
) -> anyhow::Result<Outcome> {
    let delivered = delivery.count;
    let raw: serde_json::Value = match serde_json::from_slice(payload) {
        Ok(raw) => raw,
        Err(err) => {
            // Kept, like every event given up on: nothing is acknowledged without a record.
            tracing::error!(consumer = %spec.name, error = %err, "an event is not JSON: dead-lettered");
            let kept = serde_json::json!({"raw": String::from_utf8_lossy(payload)});
            dead_letter(
                pool,
                &spec.name,
                &kept,
                Uuid::now_v7(),
                "unreadable",
                &format!("not JSON: {err}"),
                delivered,
            )
            .await?;
            return Ok(Outcome::DeadLettered);
        }
    };
    let event: Envelope = match serde_json::from_value(raw.clone()) {
        Ok(event) => event,
        Err(err) => {
            let id = raw["id"]
                .as_str()
                .and_then(|id| Uuid::parse_str(id).ok())
                .unwrap_or_else(Uuid::nil);
            let event_type = raw["type"].as_str().unwrap_or("unknown").to_owned();
            dead_letter(
                pool,
                &spec.name,
                &raw,
                id,
                &event_type,
                &format!("not an envelope: {err}"),
                delivered,
            )
            .await?;
            return Ok(Outcome::DeadLettered);
        }
    };
    if let Some(subject_type) = arrived_as.filter(|t| *t != event.event_type) {
        tracing::error!(consumer = %spec.name, event_id = %event.id, event_type = %event.event_type, subject_type, "an event arrived on another type's subject: dead-lettered");
        dead_letter(
            pool,
            &spec.name,
            &raw,
            event.id,
            &event.event_type,
            &format!(
                "a {} envelope arrived on the subject of {subject_type}: refused",
                event.event_type
            ),
            delivered,
        )
        .await?;
        return Ok(Outcome::DeadLettered);
    }
    match process(pool, &spec.name, handler, &event).await {
        Ok(true) => Ok(Outcome::Processed),
        Ok(false) => Ok(Outcome::AlreadyProcessed),
        Err(HandlerError::Transient(err)) if delivered < spec.max_deliver => {
            tracing::warn!(consumer = %spec.name, event_id = %event.id, delivered, error = %format!("{err:#}"), "handler failed: will retry");
            Ok(Outcome::Retried)
        }
        Err(HandlerError::NotYet(err)) if delivery.age < spec.max_wait => {
            let delay = spec.wait_delay(delivered);
            tracing::info!(consumer = %spec.name, event_id = %event.id, delivered, retry_in = ?delay, reason = %format!("{err:#}"), "event waits for a dependency");
            Ok(Outcome::Waiting(delay))
        }
        Err(
            HandlerError::Transient(err) | HandlerError::Permanent(err) | HandlerError::NotYet(err),
        ) => {
            tracing::error!(consumer = %spec.name, event_id = %event.id, delivered, error = %format!("{err:#}"), "handler failed: dead-lettered");
            dead_letter(
                pool,
                &spec.name,
                &raw,
                event.id,
                &event.event_type,
                &format!("{err:#}"),
                delivered,
            )
            .await?;
            Ok(Outcome::DeadLettered)
        }
    }
}

/// An event a consumer gave up on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeadLetter {
    pub consumer: String,
    pub event_id: Uuid,
    pub event_type: String,
    pub envelope: serde_json::Value,
    pub error: String,
    pub attempts: i32,
    pub failed_at: DateTime<Utc>,
    pub replayed_at: Option<DateTime<Utc>>,
    /// An operator asked for a replay, not yet run.
    pub replay_requested_at: Option<DateTime<Utc>>,
    pub discarded_at: Option<DateTime<Utc>>,
}

/// Dead letters of `consumer` neither replayed nor discarded, oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_dead_letters(pool: &PgPool, consumer: &str) -> sqlx::Result<Vec<DeadLetter>> {
    sqlx::query_as!(
        DeadLetter,
        "select * from dead_letters
         where consumer = $1 and replayed_at is null and discarded_at is null
         order by failed_at, event_id",
        consumer,
    )
    .fetch_all(pool)
    .await
}

/// Runs the handler again on a dead letter: on success it is marked replayed; on failure
/// the error is recorded and the letter stays. Either way an operator's request is answered.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn replay_dead_letter<H: Handler>(
    pool: &PgPool,
    consumer: &str,
    event_id: Uuid,
    handler: &H,
) -> anyhow::Result<Outcome> {
    let letter = sqlx::query_as!(
        DeadLetter,
        "select * from dead_letters where consumer = $1 and event_id = $2",
        consumer,
        event_id,
    )
    .fetch_optional(pool)
    .await?
    .with_context(|| format!("no dead letter {event_id} for {consumer}"))?;
    let processed = match serde_json::from_value::<Envelope>(letter.envelope) {
        Ok(event) => process(pool, consumer, handler, &event)
            .await
            .map_err(|err| match err {
                HandlerError::Transient(err)
                | HandlerError::Permanent(err)
                | HandlerError::NotYet(err) => err,
            }),
        Err(err) => Err(anyhow::Error::new(err).context("the dead letter is not an envelope")),
    };
    match processed {
        Ok(fresh) => {
            sqlx::query!(
                "update dead_letters set replayed_at = now(), replay_requested_at = null
                 where consumer = $1 and event_id = $2",
                consumer,
                event_id,
            )
            .execute(pool)
            .await?;
            Ok(if fresh {
                Outcome::Processed
            } else {
                Outcome::AlreadyProcessed
            })
        }
        Err(err) => {
            sqlx::query!(
                "update dead_letters
                 set error = $3, attempts = attempts + 1, failed_at = now(), replay_requested_at = null
                 where consumer = $1 and event_id = $2",
                consumer,
                event_id,
                format!("replay: {err:#}"),
            )
            .execute(pool)
            .await?;
            Err(err.context("the replay failed"))
        }
    }
}

/// How often a consumer looks for replays an operator asked for.
const REPLAY_POLL: Duration = Duration::from_secs(2);

/// Replays, in this process, the dead letters of `consumer` an operator asked to replay
/// (`operations::request_replay`), until `shutdown`.
async fn replay_requested<H: Handler>(
    pool: &PgPool,
    consumer: &str,
    handler: &H,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let requested = sqlx::query_scalar!(
            "select event_id from dead_letters
             where consumer = $1 and replay_requested_at is not null
               and replayed_at is null and discarded_at is null
             order by failed_at, event_id",
            consumer,
        )
        .fetch_all(pool)
        .await;
        match requested {
            Ok(ids) => {
                for id in ids {
                    match replay_dead_letter(pool, consumer, id, handler).await {
                        Ok(outcome) => {
                            tracing::info!(consumer, event_id = %id, ?outcome, "dead letter replayed");
                        }
                        Err(err) => {
                            tracing::warn!(consumer, event_id = %id, error = %format!("{err:#}"), "dead letter replay failed");
                        }
                    }
                }
            }
            Err(err) => tracing::warn!(consumer, error = %err, "cannot look for replays"),
        }
        tokio::select! {
            _ = shutdown.changed() => return,
            () = tokio::time::sleep(REPLAY_POLL) => {}
        }
    }
}
