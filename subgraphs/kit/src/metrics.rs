//! `/metrics`, in Prometheus' text format: how far the events of this subgraph lag and what
//! is stuck, read when scraped (from the database and JetStream, no counters kept in memory).
//!
//! - `crm_outbox_pending_events` — recorded, not yet published (parked rows excluded);
//! - `crm_outbox_lag_seconds` — age of the oldest of them (0 when none);
//! - `crm_outbox_parked_events` — rows the bus refused, waiting for an operator;
//! - `crm_dead_letters{consumer}` — events a consumer gave up on, neither replayed nor discarded;
//! - `crm_consumer_pending_events{consumer}` — stream events not yet delivered to the consumer;
//! - `crm_consumer_unacknowledged_events{consumer}` — delivered, not yet acknowledged;
//! - `crm_events_bus_up` — 1 when JetStream answered this scrape.
//!
//! Only counts: no tenant, event content or error text is exposed.

use std::{fmt::Write as _, time::Duration};

use async_nats::jetstream;
use axum::{extract::State, http::header, response::IntoResponse, routing::get, Router};
use sqlx::PgPool;

/// What a scrape reads.
#[derive(Clone)]
pub struct Sources {
    pub subgraph: &'static str,
    pub pool: PgPool,
    pub nats: async_nats::Client,
    pub stream: String,
    /// The durable consumers this subgraph runs.
    pub consumers: Vec<String>,
}

/// The `/metrics` route.
pub fn router(sources: Sources) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(sources)
}

async fn scrape(State(sources): State<Sources>) -> axum::response::Response {
    match render(&sources).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "metrics cannot be read");
            axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// A consumer's position in the stream.
struct ConsumerLag {
    pending: u64,
    unacknowledged: usize,
}

/// The metrics text.
///
/// # Errors
/// When the database cannot be read (JetStream being away is itself a metric).
pub async fn render(sources: &Sources) -> sqlx::Result<String> {
    let outbox = sqlx::query!(
        r#"select count(*) filter (where parked_at is null) as "pending!",
                  coalesce(extract(epoch from now() - min(created_at) filter (where parked_at is null)), 0)::float8 as "lag!",
                  count(*) filter (where parked_at is not null) as "parked!"
           from outbox where published_at is null"#,
    )
    .fetch_one(&sources.pool)
    .await?;
    let letters = sqlx::query!(
        r#"select consumer, count(*) as "count!" from dead_letters
           where replayed_at is null and discarded_at is null group by consumer"#,
    )
    .fetch_all(&sources.pool)
    .await?;
    let lags = consumer_lags(sources).await;

    let subgraph = sources.subgraph;
    let mut out = String::new();
    let mut family = |name: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    };
    family(
        "crm_outbox_pending_events",
        "Events recorded and not yet published.",
    );
    family(
        "crm_outbox_lag_seconds",
        "Age of the oldest event not yet published.",
    );
    family(
        "crm_outbox_parked_events",
        "Events the bus refused, waiting for an operator.",
    );
    family(
        "crm_dead_letters",
        "Events a consumer gave up on, neither replayed nor discarded.",
    );
    family(
        "crm_consumer_pending_events",
        "Stream events not yet delivered to the consumer.",
    );
    family(
        "crm_consumer_unacknowledged_events",
        "Events delivered to the consumer and not yet acknowledged.",
    );
    family("crm_events_bus_up", "1 when JetStream answered the scrape.");
    let _ = writeln!(
        out,
        "crm_outbox_pending_events{{subgraph=\"{subgraph}\"}} {}",
        outbox.pending
    );
    let _ = writeln!(
        out,
        "crm_outbox_lag_seconds{{subgraph=\"{subgraph}\"}} {:.3}",
        outbox.lag
    );
    let _ = writeln!(
        out,
        "crm_outbox_parked_events{{subgraph=\"{subgraph}\"}} {}",
        outbox.parked
    );
    for consumer in &sources.consumers {
        let count = letters
            .iter()
            .find(|l| &l.consumer == consumer)
            .map_or(0, |l| l.count);
        let _ = writeln!(
            out,
            "crm_dead_letters{{subgraph=\"{subgraph}\",consumer=\"{consumer}\"}} {count}"
        );
    }
    if let Some(lags) = &lags {
        for (consumer, lag) in sources.consumers.iter().zip(lags) {
            let Some(lag) = lag else { continue };
            let labels = format!("subgraph=\"{subgraph}\",consumer=\"{consumer}\"");
            let _ = writeln!(
                out,
                "crm_consumer_pending_events{{{labels}}} {}",
                lag.pending
            );
            let _ = writeln!(
                out,
                "crm_consumer_unacknowledged_events{{{labels}}} {}",
                lag.unacknowledged
            );
        }
    }
    let _ = writeln!(
        out,
        "crm_events_bus_up{{subgraph=\"{subgraph}\"}} {}",
        u8::from(lags.is_some())
    );
    Ok(out)
}

/// Each consumer's lag (`None` for one not created yet); `None` when JetStream does not
/// answer within two seconds.
async fn consumer_lags(sources: &Sources) -> Option<Vec<Option<ConsumerLag>>> {
    use async_nats::jetstream::context::ConsumerInfoErrorKind;
    let js = jetstream::new(sources.nats.clone());
    let read = async {
        let stream = js.get_stream_no_info(&sources.stream).await.ok()?;
        let mut lags = Vec::with_capacity(sources.consumers.len());
        for consumer in &sources.consumers {
            match stream.consumer_info(consumer).await {
                Ok(info) => lags.push(Some(ConsumerLag {
                    pending: info.num_pending,
                    unacknowledged: info.num_ack_pending,
                })),
                Err(err) if matches!(err.kind(), ConsumerInfoErrorKind::NotFound) => {
                    lags.push(None);
                }
                Err(_) => return None,
            }
        }
        Some(lags)
    };
    tokio::time::timeout(Duration::from_secs(2), read)
        .await
        .ok()
        .flatten()
}
