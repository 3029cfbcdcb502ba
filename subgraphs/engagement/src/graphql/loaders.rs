//! DataLoaders, each bound to the caller's organisation: every batch is one statement.

use subgraph_kit::{by_id_loader, graphql::Loaders, grouped_loader};

use crate::db::{activity, notification, task};

grouped_loader!(
    /// The tasks about many clients.
    ClientTasksLoader,
    task::TaskRow,
    task::tasks_of_clients,
    client_id,
    optional
);
grouped_loader!(
    /// The activities of many clients (their timelines).
    ClientActivitiesLoader,
    activity::ActivityRow,
    activity::activities_of_clients,
    client_id,
    optional
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
        .with::<ClientTasksLoader>()
        .with::<ClientActivitiesLoader>()
        .with::<ActivityTypeLoader>()
        .with::<ActivityLoader>()
        .with::<TaskLoader>()
        .with::<NotificationLoader>()
}
