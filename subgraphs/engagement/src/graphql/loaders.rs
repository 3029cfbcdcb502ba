//! DataLoaders, each bound to the caller's organisation: every batch is one statement.

use chrono::{DateTime, Utc};
use subgraph_kit::{
    by_id_loader,
    graphql::Loaders,
    pagination::{Children, Order},
};
use uuid::Uuid;

use crate::db::{activity, notification, task};

/// The tasks about a client, soonest due first (undated last).
pub struct ClientTasks;

impl Children for ClientTasks {
    type Row = task::TaskRow;
    const TABLE: &'static str = "tasks";
    const PARENT: &'static str = "client_id";
    const ORDER: Order = Order::SoonestFirst("due_at");
    fn position(row: &Self::Row) -> (Option<DateTime<Utc>>, Uuid) {
        (row.due_at, row.id)
    }
}

/// A client's timeline: its activities, newest first.
pub struct ClientActivities;

impl Children for ClientActivities {
    type Row = activity::ActivityRow;
    const TABLE: &'static str = "activities";
    const PARENT: &'static str = "client_id";
    const ORDER: Order = Order::NewestFirst("occurred_at");
    fn position(row: &Self::Row) -> (Option<DateTime<Utc>>, Uuid) {
        (Some(row.occurred_at), row.id)
    }
}

by_id_loader!(
    /// Activity types by id.
    ActivityTypeLoader,
    activity::ActivityTypeRow,
    activity::types_by_ids
);
by_id_loader!(
    /// Activities by id.
    ActivityLoader,
    activity::ActivityRow,
    activity::activities_by_ids
);
by_id_loader!(
    /// Tasks by id.
    TaskLoader,
    task::TaskRow,
    task::tasks_by_ids
);
by_id_loader!(
    /// Notifications by id (of any member: the entity keeps the caller's own).
    NotificationLoader,
    notification::NotificationRow,
    notification::notifications_by_ids
);

/// The DataLoaders of each request with a tenant.
pub fn loaders() -> Loaders {
    Loaders::new()
        .with_children::<ClientTasks>()
        .with_children::<ClientActivities>()
        .with::<ActivityTypeLoader>()
        .with::<ActivityLoader>()
        .with::<TaskLoader>()
        .with::<NotificationLoader>()
}
