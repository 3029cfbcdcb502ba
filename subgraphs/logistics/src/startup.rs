//! What the logistics subgraph runs: its schema and loaders, the document and webhook routes,
//! the directory of core's data (with a client's postal address), the consumers posting issued
//! invoices and welcome letters, the submission worker (woken by each new shipment, and at an interval) and the
//! tracking poll.

use std::{sync::Arc, time::Duration};

use sqlx::PgPool;
use subgraph_kit::{
    directory::Directory,
    runtime::{App, Subgraph},
    server::MembershipCheck,
    storage::LocalStore,
};
use tokio::sync::{watch, Notify};

use crate::{
    carrier::maileva::Maileva,
    config::Settings,
    db::directory::PostalIdentity,
    events::{ContractsHandler, InvoicesHandler},
    finance::Finance,
    graphql::{build_schema, loaders::loaders, LogisticsState},
    ops::{invoice::InvoicePoster, poll::Poller, proofs::ProofCollector, submit::Submitter},
};

/// The poll's loop never sleeps longer than this (a shipment is polled once per interval).
const MAX_POLL_SLEEP: Duration = Duration::from_secs(300);

/// Builds logistics over `pool` (tests hand in a fresh database) or its configured database.
///
/// # Errors
/// When the database or NATS is unreachable, or the vault key or internal token is invalid.
pub async fn build(settings: Settings, pool: Option<PgPool>) -> anyhow::Result<App> {
    let vault = settings.vault.key()?;
    let internal = settings.finance.internal_token()?;
    if internal.is_none() {
        tracing::warn!(
            "no internal token: issued invoices cannot be fetched from finance, so none is posted"
        );
    }
    let verifier = settings.service.auth.verifier();
    let subgraph = Subgraph::connect(
        &crate::BUS,
        &settings.service,
        &crate::MIGRATOR,
        pool,
        verifier.clone(),
    )
    .await?;
    let pool = subgraph.pool().clone();
    let store = Arc::new(LocalStore::new(settings.documents.dir.clone()));
    let carrier = Arc::new(Maileva::new(settings.maileva.clone())?);
    let finance = Finance::new(&settings.finance.url, internal)?;
    let directory = Directory::new(&settings.directory, PostalIdentity)?;
    let wake = Arc::new(Notify::new());
    let state = LogisticsState {
        pool: pool.clone(),
        directory: directory.clone(),
        vault: vault.clone(),
        carrier: carrier.clone(),
        store: store.clone(),
        finance: finance.clone(),
        pricing: settings.pricing.clone(),
        public_url: settings.shipping.public_url.clone(),
        wake: wake.clone(),
    };
    let submitter = Submitter {
        pool: pool.clone(),
        carrier: carrier.clone(),
        vault: vault.clone(),
        store: store.clone(),
        settings: settings.shipping.clone(),
    };
    let proofs = ProofCollector {
        pool: pool.clone(),
        carrier: carrier.clone(),
        vault: vault.clone(),
        store: store.clone(),
    };
    let poller = Poller {
        pool: pool.clone(),
        carrier,
        vault,
        interval_seconds: settings.shipping.poll_interval_seconds,
    };
    let invoices = InvoicesHandler {
        poster: InvoicePoster {
            finance,
            store: store.clone(),
            pricing: settings.pricing.clone(),
        },
        wake: wake.clone(),
    };
    let contracts = ContractsHandler {
        pricing: settings.pricing.clone(),
        wake: wake.clone(),
    };
    let submit_interval = settings.shipping.submit_interval();
    let poll_interval = Duration::from_secs(settings.shipping.poll_interval_seconds);
    subgraph
        .memberships(MembershipCheck::PROJECTED)
        .graphql(build_schema(state), loaders())
        .routes(crate::documents::routes(pool.clone(), verifier, store))
        .routes(crate::webhooks::routes(pool))
        .consumer("logistics-directory", directory.handler())
        .consumer("logistics-invoices", invoices)
        .consumer("logistics-contracts", contracts)
        .task(move |stop| submit_loop(submitter, proofs, wake, submit_interval, stop))
        .task(move |stop| poll_loop(poller, poll_interval, stop))
        .bind()
        .await
}

/// Submits what is due and collects the proofs that are, then waits for a new shipment, the
/// interval, or shutdown.
async fn submit_loop(
    submitter: Submitter<Maileva>,
    proofs: ProofCollector<Maileva>,
    wake: Arc<Notify>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match submitter.run_once().await {
            Ok(0) => {}
            Ok(done) => tracing::info!(done, "submission attempts"),
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "the submission queue cannot be read")
            }
        }
        match proofs.run_once().await {
            Ok(0) => {}
            Ok(kept) => tracing::info!(kept, "registered letters' proofs kept"),
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "cannot look for letters' proofs")
            }
        }
        tokio::select! {
            _ = stop.changed() => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// Polls the carrier for shipments not heard of for an interval (a zero interval: never).
async fn poll_loop(poller: Poller<Maileva>, interval: Duration, mut stop: watch::Receiver<bool>) {
    if interval.is_zero() {
        return;
    }
    loop {
        match poller.run_once().await {
            Ok(0) => {}
            Ok(news) => tracing::info!(news, "tracking news from polling"),
            Err(err) => tracing::warn!(error = %format!("{err:#}"), "cannot poll the carrier"),
        }
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(interval.min(MAX_POLL_SLEEP)) => {}
        }
    }
}
