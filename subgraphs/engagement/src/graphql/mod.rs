//! Engagement's GraphQL schema: notifications, tasks, activities and e-mail; the fields it
//! contributes to core's `User` and `Client`; the live subscriptions.

pub mod loaders;
pub mod subscription;
pub mod types;

use async_graphql::{Context, MergedObject};
use sqlx::PgPool;
use subgraph_kit::{directory::Directory, guard::Guard, server::RequestContext};

pub(crate) use subgraph_kit::graphql::{load_one, parse_id};
use subscription::Subscription;
use types::{
    activity, email, entities,
    notification::{NotificationMutation, NotificationQuery},
    task,
};

/// What resolvers share across requests.
#[derive(Clone)]
pub struct EngagementState {
    pub pool: PgPool,
    /// Live subscriptions listen on NATS subjects.
    pub nats: async_nats::Client,
    pub events: subgraph_kit::events::EventsSettings,
    /// Core's members (and clients, sociétés), read through to core on a miss.
    pub directory: Directory,
}

#[derive(MergedObject, Default)]
pub struct Query(
    NotificationQuery,
    task::TaskQuery,
    activity::ActivityQuery,
    email::EmailQuery,
    entities::EntityQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    NotificationMutation,
    task::TaskMutation,
    activity::ActivityMutation,
);

pub type EngagementSchema = async_graphql::Schema<Query, Mutation, Subscription>;

pub fn build_schema(state: EngagementState) -> EngagementSchema {
    subgraph_kit::graphql::schema(Guard::new())
        .data(state)
        .finish()
}

/// The subgraph SDL, as `_service { sdl }` serves it and `schema/engagement.graphql` commits it.
pub fn sdl() -> String {
    subgraph_kit::graphql::sdl::<Query, Mutation, Subscription>()
}

pub(crate) fn parts<'a>(ctx: &'a Context<'_>) -> (&'a EngagementState, &'a RequestContext) {
    subgraph_kit::graphql::parts(ctx)
}
