//! DataLoaders, each bound to the caller's organisation: every batch is one statement.

use subgraph_kit::{by_id_loader, children, graphql::Loaders, pagination::Order};

use crate::db::{activity, notification, task};

children!(
    /// The tasks about a client, soonest due first (undated last).
    ClientTasks,
    task::TaskRow,
    "tasks",
    "client_id",
    Order::SoonestFirst("due_at"),
    |row| (row.due_at, row.id)
);
children!(
    /// A client's timeline: its activities, newest first.
    ClientActivities,
    activity::ActivityRow,
    "activities",
    "client_id",
    Order::NewestFirst("occurred_at"),
    |row| (Some(row.occurred_at), row.id)
);
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
