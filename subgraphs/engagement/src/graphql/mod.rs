//! Engagement's GraphQL schema: notifications, the fields it contributes to core's `User`,
//! and references to core's `Client` that the gateway resolves.

pub mod subscription;
pub mod types;

use async_graphql::{Context, MergedObject, SDLExportOptions, Schema, ID};
use sqlx::PgPool;
use subgraph_kit::server::RequestContext;
use uuid::Uuid;

use crate::error::Error;
use subscription::Subscription;
use types::{
    activity, email, notification,
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
}

#[derive(MergedObject, Default)]
pub struct Query(
    NotificationQuery,
    task::TaskQuery,
    activity::ActivityQuery,
    email::EmailQuery,
    notification::EntityQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    NotificationMutation,
    task::TaskMutation,
    activity::ActivityMutation,
);

pub type EngagementSchema = Schema<Query, Mutation, Subscription>;

pub fn build_schema(state: EngagementState) -> EngagementSchema {
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .limit_depth(16)
        .limit_complexity(5_000)
        .data(state)
        .finish()
}

/// The subgraph SDL, as `_service { sdl }` serves it and `schema/engagement.graphql` commits it.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation())
}

pub(crate) fn parts<'a>(ctx: &'a Context<'_>) -> (&'a EngagementState, &'a RequestContext) {
    (
        ctx.data_unchecked::<EngagementState>(),
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

/// Gives each request DataLoaders bound to the caller's organisation.
pub fn attach_request_data(pool: PgPool) -> subgraph_kit::server::AttachRequestData {
    std::sync::Arc::new(
        move |request, context: &RequestContext| match context.tenant() {
            Ok(tenant) => request
                .data(async_graphql::dataloader::DataLoader::new(
                    task::ClientTasksLoader {
                        pool: pool.clone(),
                        organisation_id: tenant.organisation_id,
                    },
                    tokio::spawn,
                ))
                .data(async_graphql::dataloader::DataLoader::new(
                    activity::ActivityLoader {
                        pool: pool.clone(),
                        organisation_id: tenant.organisation_id,
                    },
                    tokio::spawn,
                )),
            Err(_) => request,
        },
    )
}
