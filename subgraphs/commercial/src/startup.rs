//! What the commercial subgraph runs: its schema and loaders, the directory of core's data,
//! the payments consumer (commissions) and the contract expiry job.

use chrono::Utc;
use sqlx::PgPool;
use subgraph_kit::{
    directory::Directory,
    runtime::{App, Subgraph},
    server::MembershipCheck,
};

use crate::{
    config::Settings,
    events::PaymentsHandler,
    graphql::{build_schema, loaders::loaders, CommercialState},
    ops::contract::expire_contracts,
};

/// Builds commercial over `pool` (tests hand in a fresh database) or its configured database.
///
/// # Errors
/// When the database or NATS is unreachable.
pub async fn build(settings: Settings, pool: Option<PgPool>) -> anyhow::Result<App> {
    let verifier = settings.service.auth.verifier();
    let subgraph = Subgraph::connect(
        &crate::BUS,
        &settings.service,
        &crate::MIGRATOR,
        pool,
        verifier,
    )
    .await?;
    let directory = Directory::new(&settings.directory, ())?;
    let state = CommercialState {
        pool: subgraph.pool().clone(),
        directory: directory.clone(),
    };
    subgraph
        .memberships(MembershipCheck::PROJECTED)
        .graphql(build_schema(state), loaders())
        .consumer("commercial-directory", directory.handler())
        .consumer("commercial-payments", PaymentsHandler)
        .job(
            "contract-expiry",
            settings.jobs.expiry_interval(),
            |pool| async move { expire_contracts(&pool, Utc::now().date_naive()).await },
        )
        .bind()
        .await
}
