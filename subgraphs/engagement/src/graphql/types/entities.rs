//! Federation entities: engagement's own (resolved in batches, scoped to the caller's
//! organisation: another organisation's id resolves to null) and the stubs of the entities it
//! extends (core's `Client` and `User`).

use async_graphql::{Context, Object, ID};
use subgraph_kit::{
    cost,
    graphql::entity,
    pagination::{self, child_page, Page},
};

use super::{activity::Activity, notification::Notification, task::Task};
use crate::{
    error::{Error, Result},
    graphql::{
        loaders::{ActivityLoader, ClientActivities, ClientTasks, NotificationLoader, TaskLoader},
        parse_id, parts,
    },
};

/// A core client, as engagement extends it: its tasks.
pub struct Client {
    pub id: ID,
}

#[Object]
impl Client {
    async fn id(&self) -> &ID {
        &self.id
    }

    /// The client's timeline: its activities, newest first, a page at a time.
    #[graphql(
        complexity = "pagination::cost(first, child_complexity)",
        directive = cost::paged::apply()
    )]
    async fn activities(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Activity>> {
        let id = parse_id("id", &self.id)?;
        child_page::<ClientActivities, _>(ctx, id, first, after, Activity).await
    }

    /// The tasks about this client, soonest due first (undated last), a page at a time.
    #[graphql(
        complexity = "pagination::cost(first, child_complexity)",
        directive = cost::paged::apply()
    )]
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Task>> {
        let id = parse_id("id", &self.id)?;
        child_page::<ClientTasks, _>(ctx, id, first, after, Task).await
    }
}

/// A core user, as engagement extends it: their notifications (visible to themselves only).
pub struct User {
    pub id: ID,
}

#[Object]
impl User {
    async fn id(&self) -> &ID {
        &self.id
    }
    /// The user's notifications, newest first; only the user sees them.
    #[graphql(
        complexity = "subgraph_kit::pagination::cost(first, child_complexity)",
        directive = subgraph_kit::cost::paged::apply()
    )]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        unread_only: Option<bool>,
    ) -> Result<Page<Notification>> {
        self.require_self(ctx)?;
        super::notification::own_notifications(ctx, first, after, unread_only.unwrap_or(false))
            .await
    }
    /// How many of the user's notifications are unread; only the user sees it.
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> Result<i64> {
        self.require_self(ctx)?;
        super::notification::own_unread_count(ctx).await
    }
}

impl User {
    fn require_self(&self, ctx: &Context<'_>) -> Result<()> {
        let (_, request) = parts(ctx);
        let tenant = request.tenant()?;
        if parse_id("id", &self.id)? != tenant.user_id {
            return Err(Error::Forbidden(
                "notifications are visible to their recipient only".into(),
            ));
        }
        Ok(())
    }
}

#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    #[graphql(entity)]
    async fn find_user_by_id(&self, #[graphql(key)] id: ID) -> User {
        User { id }
    }

    #[graphql(entity)]
    async fn find_client_by_id(&self, #[graphql(key)] id: ID) -> Client {
        Client { id }
    }

    /// An activity of the caller's organisation; another organisation's id resolves to null.
    #[graphql(entity)]
    async fn find_activity_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<Activity>> {
        Ok(entity::<ActivityLoader>(ctx, &id).await?.map(Activity))
    }

    /// A task of the caller's organisation; another organisation's id resolves to null.
    #[graphql(entity)]
    async fn find_task_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<Task>> {
        Ok(entity::<TaskLoader>(ctx, &id).await?.map(Task))
    }

    /// The caller's own notifications only: another user's id resolves to null.
    #[graphql(entity)]
    async fn find_notification_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<Notification>> {
        let (_, request) = parts(ctx);
        let tenant = request.tenant()?;
        Ok(entity::<NotificationLoader>(ctx, &id)
            .await?
            .filter(|row| row.user_id == tenant.user_id)
            .map(Notification))
    }
}
