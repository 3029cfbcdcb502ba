//! Core's GraphQL schema: roots merged from one module per aggregate, federation entities,
//! and the per-request DataLoaders that make every entity batch one SQL statement.

pub mod loaders;
pub mod types;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, MergedObject};
use chrono::Duration;
use sqlx::PgPool;
use subgraph_kit::{graphql::Loaders, guard::Guard, server::RequestContext};

use crate::tokens::TokenIssuer;
pub(crate) use subgraph_kit::graphql::{load_group, load_one, parse_id};
use types::{
    account::AccountMutation,
    address::AddressMutation,
    client::{ClientMutation, ClientQuery},
    identity::{IdentityMutation, IdentityQuery},
    member::{MemberMutation, MemberQuery},
    organisation::{OrganisationMutation, OrganisationQuery},
};

/// What resolvers share across requests.
#[derive(Clone)]
pub struct CoreState {
    pub pool: PgPool,
    pub issuer: Arc<TokenIssuer>,
    /// Seals the secrets e-mails carry, for the mailer alone.
    pub mail: subgraph_kit::sealed::SealingKey,
    pub invitation_ttl: Duration,
    /// How long refresh tokens and sessions last.
    pub sessions: crate::ops::session::Lifetimes,
}

#[derive(MergedObject, Default)]
pub struct Query(
    IdentityQuery,
    OrganisationQuery,
    MemberQuery,
    ClientQuery,
    types::EntityQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    AccountMutation,
    IdentityMutation,
    OrganisationMutation,
    MemberMutation,
    ClientMutation,
    AddressMutation,
);

pub type CoreSchema = async_graphql::Schema<Query, Mutation, EmptySubscription>;

/// The mutations that check a secret (a password, an invitation or e-mailed link's token),
/// mint a token or e-mail one: one per operation at most, so aliases cannot turn one request
/// into a thousand guesses (or e-mails).
pub const CREDENTIAL_MUTATIONS: [&str; 11] = [
    "login",
    "signUp",
    "confirmSignUp",
    "requestPasswordReset",
    "resetPassword",
    "acceptInvitation",
    "rejectInvitation",
    "switchOrganisation",
    "refreshSession",
    "logout",
    "changePassword",
];

/// The schema over `state`.
pub fn build_schema(state: CoreState) -> CoreSchema {
    subgraph_kit::graphql::schema(Guard::single(&CREDENTIAL_MUTATIONS))
        .data(state)
        .finish()
}

/// The subgraph SDL, as `_service { sdl }` serves it and `schema/core.graphql` commits it.
pub fn sdl() -> String {
    subgraph_kit::graphql::sdl::<Query, Mutation, EmptySubscription>()
}

/// The DataLoaders of each request with a tenant.
pub fn loaders() -> Loaders {
    use loaders::*;
    Loaders::new()
        .with::<ClientLoader>()
        .with::<ClientAddressesLoader>()
        .with::<AddressLoader>()
        .with::<SocieteLoader>()
        .with::<UserLoader>()
}

/// The shared state and the request context, which every resolver needs.
pub(crate) fn parts<'a>(ctx: &'a Context<'_>) -> (&'a CoreState, &'a RequestContext) {
    subgraph_kit::graphql::parts(ctx)
}
