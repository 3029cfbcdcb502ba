//! What the finance subgraph runs: its schema and loaders, the document downloads, the
//! directory of core's data (with a client's billing identity) and the consumer turning signed
//! contracts into drafts.

use std::sync::Arc;

use sqlx::PgPool;
use subgraph_kit::{
    directory::Directory,
    runtime::{App, Subgraph},
    server::MembershipCheck,
    storage::LocalStore,
};

use crate::{
    config::Settings,
    db::directory::BillingIdentity,
    events::ContractsHandler,
    graphql::{build_schema, loaders::loaders, FinanceState},
};

/// Builds finance over `pool` (tests hand in a fresh database) or its configured database.
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
        verifier.clone(),
    )
    .await?;
    let pool = subgraph.pool().clone();
    let internal = settings.documents.internal_token()?;
    let store = Arc::new(LocalStore::new(settings.documents.dir.clone()));
    let directory = Directory::new(&settings.directory, BillingIdentity)?;
    let state = FinanceState {
        pool: pool.clone(),
        store: store.clone(),
        public_url: settings.documents.public_url.clone(),
        directory: directory.clone(),
    };
    subgraph
        .memberships(MembershipCheck::PROJECTED)
        .graphql(build_schema(state), loaders())
        .routes(crate::documents::routes(pool, verifier, store, internal))
        .consumer("finance-directory", directory.handler())
        .consumer("finance-contracts", ContractsHandler)
        .bind()
        .await
}
