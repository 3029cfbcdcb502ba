//! Logistics' GraphQL schema: carrier accounts (admins), shipments and their tracking, a
//! client's postal setting, the postal-address check; the fields it contributes to core's
//! `Client`, commercial's `Contract` and finance's `Invoice` (`shipments`); the `Shipment`
//! entity, resolved in batches through tenant-bound DataLoaders.

pub mod loaders;
pub mod types;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, MergedObject};
use sqlx::PgPool;
use subgraph_kit::{
    directory::Directory, guard::Guard, server::RequestContext, storage::LocalStore,
    vault::VaultKey,
};
use tokio::sync::Notify;

use crate::{
    carrier::maileva::Maileva, config::Pricing, db::directory::PostalIdentity, finance::Finance,
};
pub(crate) use subgraph_kit::graphql::{parse_id, parse_opt_id};
use types::{account, entities, shipment};

/// What resolvers share across requests.
#[derive(Clone)]
pub struct LogisticsState {
    pub pool: PgPool,
    /// Core's clients and sociétés (with a client's postal address), read through on a miss.
    pub directory: Directory<PostalIdentity>,
    /// Opens and seals carrier credentials.
    pub vault: VaultKey,
    pub carrier: Arc<Maileva>,
    pub store: Arc<LocalStore>,
    pub finance: Finance,
    pub pricing: Pricing,
    /// This subgraph's public base URL (webhooks, documents).
    pub public_url: String,
    /// Wakes the submission worker.
    pub wake: Arc<Notify>,
}

#[derive(MergedObject, Default)]
pub struct Query(
    shipment::ShipmentQuery,
    account::AccountQuery,
    entities::EntityQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(shipment::ShipmentMutation, account::AccountMutation);

pub type LogisticsSchema = async_graphql::Schema<Query, Mutation, EmptySubscription>;

pub fn build_schema(state: LogisticsState) -> LogisticsSchema {
    subgraph_kit::graphql::schema(Guard::new())
        .data(state)
        .finish()
}

/// The subgraph SDL, as `_service { sdl }` serves it and `schema/logistics.graphql` commits it.
pub fn sdl() -> String {
    subgraph_kit::graphql::sdl::<Query, Mutation, EmptySubscription>()
}

pub(crate) fn parts<'a>(ctx: &'a Context<'_>) -> (&'a LogisticsState, &'a RequestContext) {
    subgraph_kit::graphql::parts(ctx)
}
