//! Domain events: the envelope, the transactional outbox and the relay to NATS JetStream.
//!
//! A mutation writes its change and its event in one transaction (`record`), so an
//! acknowledged change always has its event, and an event never describes a change that was
//! rolled back. The relay publishes outbox rows to JetStream with `Nats-Msg-Id` = event id
//! (the server drops duplicates within its window) and marks them published. While NATS is
//! away, rows wait and the relay retries with backoff: events are delayed, never lost.
//! Relays lock rows with `for update skip locked`, so several instances share the work; a
//! relay that dies between publish and mark leaves the row for another, whose publish the
//! dedupe window absorbs, and consumers are idempotent on the event id beyond it.

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use async_nats::{header::HeaderMap, jetstream};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sqlx::{postgres::PgListener, PgConnection, PgPool};
use tokio::sync::watch;
use uuid::Uuid;

/// The Postgres channel `record` notifies, so relays wake as soon as a transaction commits.
const CHANNEL: &str = "outbox";

/// Where events go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsSettings {
    /// NATS server URL.
    pub nats_url: String,
    /// Subjects are `<prefix>.<aggregate>.<verb>`; `crm.events` in every deployment (tests
    /// isolate themselves with their own).
    pub subject_prefix: String,
    /// The JetStream stream capturing `<prefix>.>`, created or updated at startup.
    pub stream: String,
    /// Seconds during which JetStream drops a republished event id.
    #[serde(deserialize_with = "crate::settings::lenient")]
    pub duplicate_window_seconds: u64,
    /// Days the stream keeps events.
    #[serde(deserialize_with = "crate::settings::lenient")]
    pub retention_days: u64,
    /// Prefix of the live subjects (plain NATS, not stored) that feed GraphQL subscriptions:
    /// `<live_prefix>.<organisation>.<user>.<topic>`.
    pub live_prefix: String,
    /// Seconds a consumer may hold an event unacknowledged before JetStream redelivers it
    /// (to another instance, or to this one restarted after a crash).
    #[serde(deserialize_with = "crate::settings::lenient")]
    pub ack_wait_seconds: u64,
    /// The NATS user this service connects as, on a server with authorization (see
    /// `subgraph_kit::bus`); none on a development server without it.
    #[serde(default)]
    pub nats_user: Option<String>,
    /// That user's password.
    #[serde(default)]
    pub nats_password: Option<SecretString>,
    /// That user's password, from a file (a Docker secret).
    #[serde(default)]
    pub nats_password_file: Option<PathBuf>,
    /// The CA certificate (PEM) that signed the server's: the connection then requires TLS.
    #[serde(default)]
    pub nats_tls_ca_file: Option<PathBuf>,
}

impl EventsSettings {
    pub fn new(nats_url: &str) -> Self {
        Self {
            nats_url: nats_url.to_owned(),
            subject_prefix: "crm.events".into(),
            stream: "CRM_EVENTS".into(),
            duplicate_window_seconds: 120,
            retention_days: 7,
            live_prefix: "crm.live".into(),
            ack_wait_seconds: 30,
            nats_user: None,
            nats_password: None,
            nats_password_file: None,
            nats_tls_ca_file: None,
        }
    }

    /// The live subject of `topic` for one user of one organisation.
    pub fn live_subject(&self, organisation_id: Uuid, user_id: Uuid, topic: &str) -> String {
        format!("{}.{organisation_id}.{user_id}.{topic}", self.live_prefix)
    }

    /// Sets the defaults of an `events` section in a subgraph's layered settings.
    pub fn set_defaults<S: config::builder::BuilderState>(
        builder: config::ConfigBuilder<S>,
    ) -> Result<config::ConfigBuilder<S>, config::ConfigError> {
        let defaults = Self::new("nats://127.0.0.1:4222");
        builder
            .set_default("events.nats_url", defaults.nats_url)?
            .set_default("events.subject_prefix", defaults.subject_prefix)?
            .set_default("events.stream", defaults.stream)?
            .set_default(
                "events.duplicate_window_seconds",
                defaults.duplicate_window_seconds,
            )?
            .set_default("events.retention_days", defaults.retention_days)?
            .set_default("events.live_prefix", defaults.live_prefix)?
            .set_default("events.ack_wait_seconds", defaults.ack_wait_seconds)
    }

    /// The subject of an event type (`client.created` → `crm.events.client.created`).
    pub fn subject(&self, event_type: &str) -> String {
        format!("{}.{event_type}", self.subject_prefix)
    }
}

pub use crm_events::{Envelope, Event, EventSet, PayloadError};

/// Records `payload` as an event of `organisation_id` in the caller's transaction,
/// correlated with the request `correlation_id` and caused by the event `causation_id`.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn record_event<E: Event>(
    tx: &mut PgConnection,
    payload: &E,
    organisation_id: Uuid,
    correlation_id: Option<&str>,
    causation_id: Option<Uuid>,
) -> Result<(), crate::error::Error> {
    let envelope = Envelope::of(payload, organisation_id, correlation_id)
        .map_err(|e| crate::error::Error::internal(format!("cannot serialise {}: {e}", E::TYPE)))?
        .caused_by(causation_id);
    record(tx, &envelope).await?;
    Ok(())
}

/// The largest event the outbox takes, serialised: half of NATS's default 1 MiB payload limit,
/// so that an event recorded can always be published.
pub const MAX_EVENT_BYTES: usize = 512 * 1024;

/// Writes `envelope` to the outbox inside the caller's transaction.
///
/// # Errors
/// `VALIDATION` when the event would exceed [`MAX_EVENT_BYTES`] (the change is too big to
/// announce: nothing is written), or the database's error.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record(tx: &mut PgConnection, envelope: &Envelope) -> Result<(), crate::error::Error> {
    // Serialised once: measured, then stored as the jsonb it parses into.
    let json = serde_json::to_string(envelope)
        .map_err(|e| crate::error::Error::internal(format!("cannot serialise an event: {e}")))?;
    let size = json.len();
    if size > MAX_EVENT_BYTES {
        return Err(crate::error::Error::invalid(
            "input",
            format!(
                "this change is too large to record ({} KiB as a {} event; at most {} KiB): \
                 make it smaller, with fewer or shorter lines",
                size.div_ceil(1024),
                envelope.event_type,
                MAX_EVENT_BYTES / 1024
            ),
        ));
    }
    sqlx::query!(
        "insert into outbox (id, organisation_id, event_type, envelope, created_at)
         values ($1, $2, $3, $4::text::jsonb, $5)",
        envelope.id,
        envelope.organisation_id,
        envelope.event_type,
        json,
        envelope.occurred_at,
    )
    .execute(&mut *tx)
    .await?;
    // Delivered at commit, and only if the transaction commits.
    sqlx::query!(
        r#"select true as "notified!" from pg_notify($1, '')"#,
        CHANNEL
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(())
}

/// Connects to NATS as `service` (its user and password when set, TLS when a CA is given,
/// replies on its own inbox prefix) without waiting for it: the client keeps (re)connecting in
/// the background, so a subgraph starts and accepts writes while NATS is down.
///
/// # Errors
/// When the address is invalid, or the password file or CA cannot be read.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn connect(
    settings: &EventsSettings,
    service: &str,
) -> anyhow::Result<async_nats::Client> {
    let mut options = async_nats::ConnectOptions::new()
        .name(format!("crm-{service}"))
        .custom_inbox_prefix(crate::bus::inbox_prefix(service))
        .retry_on_initial_connect()
        .connection_timeout(Duration::from_secs(2));
    if let Some(user) = &settings.nats_user {
        let password = crate::settings::read_secret(
            settings.nats_password.as_ref(),
            settings.nats_password_file.as_deref(),
            "events.nats_user is set without events.nats_password or events.nats_password_file",
        )?;
        options =
            options.user_and_password(user.clone(), password.expose_secret().trim_end().to_owned());
    }
    if let Some(ca) = &settings.nats_tls_ca_file {
        anyhow::ensure!(
            ca.is_file(),
            "the NATS CA certificate {} cannot be read",
            ca.display()
        );
        // Both of rustls's providers are compiled in (through other crates), so it cannot
        // pick one itself and would panic at the handshake: name it once for the process.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        options = options.add_root_certificates(ca.clone()).require_tls(true);
    }
    options
        .connect(settings.nats_url.as_str())
        .await
        .with_context(|| format!("invalid NATS address {}", settings.nats_url))
}

/// Creates the stream, or updates its configuration to ours.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn ensure_stream(
    js: &jetstream::Context,
    settings: &EventsSettings,
) -> anyhow::Result<()> {
    js.create_or_update_stream(jetstream::stream::Config {
        name: settings.stream.clone(),
        subjects: vec![format!("{}.>", settings.subject_prefix)],
        duplicate_window: Duration::from_secs(settings.duplicate_window_seconds),
        max_age: Duration::from_secs(settings.retention_days * 24 * 3600),
        storage: jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await
    .with_context(|| format!("cannot create or update the stream {}", settings.stream))?;
    Ok(())
}

/// What one `drain` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DrainReport {
    /// Rows published and marked.
    pub published: usize,
    /// Of those, how many JetStream had already stored (dropped by its dedupe window).
    pub duplicates: usize,
    /// Rows the bus refused for good, now parked.
    pub parked: usize,
}

/// Times the bus may refuse a row (an outage is not a refusal) before the relay parks it.
pub const MAX_REFUSALS: i32 = 5;

/// Why a row was not published.
enum Failure {
    /// The bus is away or slow (not connected, no stream, no ack in time): the row waits,
    /// and so does everything after it, in order.
    Outage(anyhow::Error),
    /// The bus answered and refused this row; `permanent` when trying again cannot help
    /// (larger than the server takes).
    Refused {
        error: anyhow::Error,
        permanent: bool,
    },
}

impl Failure {
    fn of(err: jetstream::context::PublishError) -> Self {
        use jetstream::context::PublishErrorKind as Kind;
        match err.kind() {
            Kind::TimedOut | Kind::BrokenPipe | Kind::StreamNotFound | Kind::MaxAckPending => {
                Failure::Outage(err.into())
            }
            Kind::MaxPayloadExceeded => Failure::Refused {
                error: err.into(),
                permanent: true,
            },
            Kind::WrongLastMessageId | Kind::WrongLastSequence | Kind::Other => Failure::Refused {
                error: err.into(),
                permanent: false,
            },
        }
    }
}

/// Publishes outbox rows to JetStream until `shutdown` turns true.
pub struct Relay {
    pool: PgPool,
    js: jetstream::Context,
    settings: EventsSettings,
    /// Rows per transaction.
    batch: i64,
}

struct OutboxRow {
    id: Uuid,
    event_type: String,
    envelope: serde_json::Value,
}

impl Relay {
    pub fn new(pool: PgPool, client: async_nats::Client, settings: EventsSettings) -> Self {
        let mut js = jetstream::new(client);
        js.set_timeout(Duration::from_secs(5));
        Self {
            pool,
            js,
            settings,
            batch: 100,
        }
    }

    /// Runs until `shutdown` becomes true; spawn it.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut listener = None;
        let mut stream_ready = false;
        let mut backoff = Duration::from_millis(100);
        let mut last_purge: Option<tokio::time::Instant> = None;
        loop {
            if *shutdown.borrow() {
                return;
            }
            if listener.is_none() {
                listener = match PgListener::connect_with(&self.pool).await {
                    Ok(mut l) => l.listen(CHANNEL).await.ok().map(|()| l),
                    Err(_) => None,
                };
            }
            let outcome = async {
                if !stream_ready {
                    ensure_stream(&self.js, &self.settings).await?;
                    stream_ready = true;
                }
                self.drain().await
            }
            .await;
            let healthy = outcome.is_ok();
            if healthy && last_purge.is_none_or(|at| at.elapsed() > Duration::from_secs(3600)) {
                last_purge = Some(tokio::time::Instant::now());
                if let Err(err) = self.purge_published().await {
                    tracing::warn!(error = %err, "cannot purge published outbox rows");
                }
            }
            let wait = match outcome {
                Ok(_) => {
                    backoff = Duration::from_millis(100);
                    Duration::from_secs(1)
                }
                Err(err) => {
                    // The stream may have gone with the server: check it again next time.
                    stream_ready = false;
                    tracing::warn!(error = %format!("{err:#}"), retry_in = ?backoff, "event relay cannot publish yet");
                    let wait = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    wait
                }
            };
            // Wake on a commit notification (unless backing off), after `wait`, or at shutdown.
            tokio::select! {
                _ = shutdown.changed() => {}
                () = tokio::time::sleep(wait) => {}
                received = async {
                    match listener.as_mut() {
                        Some(l) => l.recv().await.map(drop),
                        None => std::future::pending().await,
                    }
                }, if healthy => {
                    if received.is_err() {
                        listener = None;
                    }
                }
            }
        }
    }

    /// Deletes outbox rows published longer ago than the stream keeps events (past that,
    /// JetStream is the record), and consumers' idempotency records twice as old (no event
    /// that old can be delivered again).
    pub async fn purge_published(&self) -> sqlx::Result<u64> {
        let days = i32::try_from(self.settings.retention_days).unwrap_or(i32::MAX);
        let outbox = sqlx::query!(
            "delete from outbox where published_at < now() - make_interval(days => $1)",
            days,
        )
        .execute(&self.pool)
        .await?;
        let processed = sqlx::query!(
            "delete from processed_events where processed_at < now() - make_interval(days => $1)",
            days.saturating_mul(2),
        )
        .execute(&self.pool)
        .await?;
        Ok(outbox.rows_affected() + processed.rows_affected())
    }

    /// Publishes every pending row, batch after batch. A row the bus refuses is retried on
    /// later drains and parked after [`MAX_REFUSALS`] (at once when it can never fit), and
    /// the rows after it go on; during an outage every row waits, in order.
    ///
    /// # Errors
    /// When the database is unreachable, or the bus is away or refused a row not parked yet
    /// (the caller backs off).
    pub async fn drain(&self) -> anyhow::Result<DrainReport> {
        let mut report = DrainReport::default();
        loop {
            let mut tx = self.pool.begin().await?;
            let rows = sqlx::query_as!(
                OutboxRow,
                "select id, event_type, envelope from outbox
                 where published_at is null and parked_at is null
                 order by created_at, id limit $1 for update skip locked",
                self.batch,
            )
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                tx.commit().await?;
                return Ok(report);
            }
            let (published, failure) = self.publish(&rows, &mut report).await;
            sqlx::query!(
                "update outbox set published_at = now() where id = any($1)",
                &published[..],
            )
            .execute(&mut *tx)
            .await?;
            report.published += published.len();
            let outcome = match failure {
                None => None,
                Some((id, Failure::Outage(err))) => {
                    sqlx::query!(
                        "update outbox set last_error = $2 where id = $1",
                        id,
                        format!("{err:#}"),
                    )
                    .execute(&mut *tx)
                    .await?;
                    Some(err.context("publishing to JetStream"))
                }
                Some((id, Failure::Refused { error, permanent })) => {
                    let parked = sqlx::query_scalar!(
                        r#"update outbox set attempts = attempts + 1, last_error = $2,
                               parked_at = case when $3 or attempts + 1 >= $4 then now() end
                           where id = $1
                           returning parked_at is not null as "parked!""#,
                        id,
                        format!("{error:#}"),
                        permanent,
                        MAX_REFUSALS,
                    )
                    .fetch_one(&mut *tx)
                    .await?;
                    if parked {
                        report.parked += 1;
                        tracing::error!(event = %id, error = %format!("{error:#}"), "the bus refuses this event: parked, the relay goes on");
                        None
                    } else {
                        Some(error.context("JetStream refused an event"))
                    }
                }
            };
            tx.commit().await?;
            if let Some(err) = outcome {
                return Err(err);
            }
        }
    }

    /// Sends `rows` in order, then collects their acknowledgements: the ids stored, and the
    /// first row that failed (those after it wait for the next drain).
    async fn publish(
        &self,
        rows: &[OutboxRow],
        report: &mut DrainReport,
    ) -> (Vec<Uuid>, Option<(Uuid, Failure)>) {
        let mut pending = Vec::with_capacity(rows.len());
        let mut failure = None;
        for row in rows {
            let mut headers = HeaderMap::new();
            headers.insert("Nats-Msg-Id", row.id.to_string().as_str());
            let body = match serde_json::to_vec(&row.envelope) {
                Ok(body) => body,
                Err(err) => {
                    let error = anyhow::Error::from(err).context("the envelope does not serialise");
                    failure = Some((
                        row.id,
                        Failure::Refused {
                            error,
                            permanent: true,
                        },
                    ));
                    break;
                }
            };
            let subject = self.settings.subject(&row.event_type);
            match self
                .js
                .publish_with_headers(subject, headers, body.into())
                .await
            {
                Ok(ack) => pending.push((row.id, ack)),
                Err(err) => {
                    failure = Some((row.id, Failure::of(err)));
                    break;
                }
            }
        }
        let mut published = Vec::with_capacity(pending.len());
        for (id, ack) in pending {
            match ack.await {
                Ok(ack) => {
                    // The server already had this id: a relay published it and died before
                    // marking it. Harmless, but worth knowing.
                    if ack.duplicate {
                        report.duplicates += 1;
                    }
                    published.push(id);
                }
                Err(err) => {
                    failure = Some((id, Failure::of(err)));
                    break;
                }
            }
        }
        (published, failure)
    }
}
