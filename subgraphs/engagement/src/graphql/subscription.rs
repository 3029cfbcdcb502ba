//! Live events for the caller, fed by NATS subjects scoped by organisation and user
//! (`<live_prefix>.<organisation>.<user>.<topic>`): every engagement instance listens on the
//! caller's own subject, so any instance can serve any subscriber and nobody ever receives
//! another user's or organisation's events. Dropping a stream (client gone) drops its NATS
//! subscription.

use async_graphql::Context;
use futures::{Stream, StreamExt};
use serde::de::DeserializeOwned;

use super::{
    parts,
    types::{notification::Notification, task::Task},
};
use crate::{
    db::{notification::NotificationRow, task::TaskRow},
    error::{Error, Result},
    events::{NOTIFICATIONS_TOPIC, TASKS_TOPIC},
};

/// The caller's live `topic`, decoded as `T`.
async fn listen<T: DeserializeOwned + Send + 'static>(
    ctx: &Context<'_>,
    topic: &str,
) -> Result<impl Stream<Item = T>> {
    let (state, request) = parts(ctx);
    let tenant = request.tenant()?;
    let subject = state
        .events
        .live_subject(tenant.organisation_id, tenant.user_id, topic);
    let subscriber = state
        .nats
        .subscribe(subject)
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("cannot listen for live events: {e}")))?;
    Ok(subscriber
        .filter_map(|message| async move { serde_json::from_slice::<T>(&message.payload).ok() }))
}

#[derive(Default)]
pub struct Subscription;

#[async_graphql::Subscription]
impl Subscription {
    /// Each new notification of the caller, as it is created.
    async fn notification_added(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Notification>> {
        Ok(listen::<NotificationRow>(ctx, NOTIFICATIONS_TOPIC)
            .await?
            .map(Notification))
    }

    /// Each change (creation, edit, status) of a task the caller created or is assigned to.
    async fn task_changed(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = Task>> {
        Ok(listen::<TaskRow>(ctx, TASKS_TOPIC).await?.map(Task))
    }
}
