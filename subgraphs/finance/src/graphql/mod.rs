//! Finance's GraphQL schema: invoice settings, invoices and credit notes, settlements and the
//! FEC export; the fields it contributes to core's `Client` and commercial's `Contract`
//! (`invoices`); the `Invoice` entity, resolved in batches through tenant-bound DataLoaders.

pub mod loaders;
pub mod types;

use async_graphql::{Context, EmptySubscription, MergedObject, SDLExportOptions, Schema, ID};
use sqlx::PgPool;
use subgraph_kit::server::RequestContext;
use uuid::Uuid;

use crate::error::Error;
use types::{entities, invoice, settings};

/// What resolvers share across requests.
#[derive(Clone)]
pub struct FinanceState {
    pub pool: PgPool,
    /// Where issued documents are written.
    pub store: std::sync::Arc<crate::storage::LocalStore>,
    /// This subgraph's public base URL (for `pdfUrl`).
    pub public_url: String,
}

#[derive(MergedObject, Default)]
pub struct Query(
    invoice::InvoiceQuery,
    settings::SettingsQuery,
    entities::EntityQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(invoice::InvoiceMutation, settings::SettingsMutation);

pub type FinanceSchema = Schema<Query, Mutation, EmptySubscription>;

pub fn build_schema(state: FinanceState) -> FinanceSchema {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .enable_federation()
        .limit_depth(16)
        .limit_complexity(5_000)
        .data(state)
        .finish()
}

/// The subgraph SDL, as `_service { sdl }` serves it and `schema/finance.graphql` commits it.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .enable_federation()
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation())
}

pub(crate) fn parts<'a>(ctx: &'a Context<'_>) -> (&'a FinanceState, &'a RequestContext) {
    (
        ctx.data_unchecked::<FinanceState>(),
        ctx.data_unchecked::<RequestContext>(),
    )
}

pub(crate) fn parse_id(field: &str, id: &ID) -> Result<Uuid, Error> {
    Uuid::parse_str(id.as_str()).map_err(|_| {
        Error::Invalid(subgraph_kit::error::Invalid::new(
            field,
            "is not a valid id",
        ))
    })
}

pub(crate) fn parse_opt_id(field: &str, id: Option<&ID>) -> Result<Option<Uuid>, Error> {
    id.map(|id| parse_id(field, id)).transpose()
}

/// Gives each request DataLoaders bound to the caller's organisation.
pub fn attach_request_data(pool: PgPool) -> subgraph_kit::server::AttachRequestData {
    std::sync::Arc::new(
        move |request, context: &RequestContext| match context.tenant() {
            Ok(tenant) => loaders::attach(request, &pool, tenant.organisation_id),
            Err(_) => request,
        },
    )
}
