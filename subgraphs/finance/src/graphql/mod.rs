//! Finance's GraphQL schema: invoice settings, invoices and credit notes, settlements and the
//! FEC export; the fields it contributes to core's `Client` and commercial's `Contract`
//! (`invoices`); the `Invoice` entity, resolved in batches through tenant-bound DataLoaders.

pub mod loaders;
pub mod types;

use async_graphql::{Context, EmptySubscription, MergedObject};
use sqlx::PgPool;
use subgraph_kit::{directory::Directory, guard::Guard, server::RequestContext};

use crate::db::directory::BillingIdentity;
pub(crate) use subgraph_kit::graphql::{parse_id, parse_opt_id};
use types::{entities, invoice, invoice_mutation, settings};

/// What resolvers share across requests.
#[derive(Clone)]
pub struct FinanceState {
    pub pool: PgPool,
    /// Where issued documents are written.
    pub store: std::sync::Arc<subgraph_kit::storage::LocalStore>,
    /// This subgraph's public base URL (for `pdfUrl`).
    pub public_url: String,
    /// Core's clients and sociétés, read through to core on a miss.
    pub directory: Directory<BillingIdentity>,
}

#[derive(MergedObject, Default)]
pub struct Query(
    invoice::InvoiceQuery,
    settings::SettingsQuery,
    entities::EntityQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    invoice_mutation::InvoiceMutation,
    settings::SettingsMutation,
);

pub type FinanceSchema = async_graphql::Schema<Query, Mutation, EmptySubscription>;

pub fn build_schema(state: FinanceState) -> FinanceSchema {
    subgraph_kit::graphql::schema(Guard::new())
        .data(state)
        .finish()
}

/// The subgraph SDL, as `_service { sdl }` serves it and `schema/finance.graphql` commits it.
pub fn sdl() -> String {
    subgraph_kit::graphql::sdl::<Query, Mutation, EmptySubscription>()
}

pub(crate) fn parts<'a>(ctx: &'a Context<'_>) -> (&'a FinanceState, &'a RequestContext) {
    subgraph_kit::graphql::parts(ctx)
}
