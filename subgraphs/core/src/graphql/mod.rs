//! Core's GraphQL schema: roots merged from one module per aggregate, federation entities,
//! and the per-request DataLoaders that make every entity batch one SQL statement.

pub mod loaders;
pub mod types;

use std::sync::Arc;

use async_graphql::{
    dataloader::DataLoader, Context, EmptySubscription, MergedObject, SDLExportOptions, Schema, ID,
};
use chrono::Duration;
use sqlx::PgPool;
use subgraph_kit::server::{AttachRequestData, RequestContext};
use uuid::Uuid;

use crate::{error::Error, tokens::TokenIssuer};
use loaders::{AddressLoader, ClientAddressesLoader, ClientLoader, SocieteLoader, UserLoader};
use types::{
    client::{ClientMutation, ClientQuery},
    identity::{IdentityMutation, IdentityQuery},
    organisation::{OrganisationMutation, OrganisationQuery},
};

/// What resolvers share across requests.
#[derive(Clone)]
pub struct CoreState {
    pub pool: PgPool,
    pub issuer: Arc<TokenIssuer>,
    pub invitation_ttl: Duration,
}

#[derive(MergedObject, Default)]
pub struct Query(
    IdentityQuery,
    OrganisationQuery,
    ClientQuery,
    types::EntityQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(IdentityMutation, OrganisationMutation, ClientMutation);

pub type CoreSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema over `state`.
pub fn build_schema(state: CoreState) -> CoreSchema {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .limit_depth(16)
        .limit_complexity(5_000)
        .data(state)
        .finish()
}

/// The subgraph SDL, as `_service { sdl }` serves it and `schema/core.graphql` commits it.
pub fn sdl() -> String {
    let schema = Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .finish();
    schema.sdl_with_options(SDLExportOptions::new().federation())
}

/// Gives each request DataLoaders bound to the caller's organisation, so that a batch can
/// never mix tenants. Anonymous requests get none and entity lookups refuse them.
pub fn attach_request_data(pool: PgPool) -> AttachRequestData {
    Arc::new(move |request, context: &RequestContext| {
        let Ok(tenant) = context.tenant() else {
            return request;
        };
        let org = tenant.organisation_id;
        let p = || pool.clone();
        request
            .data(DataLoader::new(ClientLoader::new(p(), org), tokio::spawn))
            .data(DataLoader::new(
                ClientAddressesLoader::new(p(), org),
                tokio::spawn,
            ))
            .data(DataLoader::new(AddressLoader::new(p(), org), tokio::spawn))
            .data(DataLoader::new(SocieteLoader::new(p(), org), tokio::spawn))
            .data(DataLoader::new(UserLoader::new(p(), org), tokio::spawn))
    })
}

/// The shared state and the request context, which every resolver needs.
pub(crate) fn parts<'a>(ctx: &'a Context<'_>) -> (&'a CoreState, &'a RequestContext) {
    (
        ctx.data_unchecked::<CoreState>(),
        ctx.data_unchecked::<RequestContext>(),
    )
}

/// A DataLoader of this request; present whenever the request has a tenant.
pub(crate) fn loader<'a, T: Send + Sync + 'static>(
    ctx: &'a Context<'_>,
) -> Result<&'a DataLoader<T>, Error> {
    ctx.data_opt::<DataLoader<T>>().ok_or(Error::Access(
        subgraph_kit::server::AccessError::Unauthenticated,
    ))
}

/// Parses a GraphQL `ID` argument into a UUID.
pub(crate) fn parse_id(field: &str, id: &ID) -> Result<Uuid, Error> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| Error::Invalid(crate::domain::Invalid::new(field, "is not a valid id")))
}
