//! Notifications: one row per recipient.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use subgraph_kit::pagination::PageRequest;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, serde::Deserialize)]
pub struct NotificationRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub title: String,
    pub message: String,
    pub link: Option<String>,
    pub metadata: serde_json::Value,
    pub source_event_id: Option<Uuid>,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub struct NewNotification<'a> {
    pub organisation_id: Uuid,
    pub user_id: Uuid,
    pub kind: &'a str,
    pub title: &'a str,
    pub message: &'a str,
    pub link: Option<&'a str>,
    pub metadata: serde_json::Value,
    pub source_event_id: Option<Uuid>,
}

/// Notifications by id: the one statement behind an `_entities` batch (the resolver keeps the
/// caller's own).
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn notifications_by_ids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<NotificationRow>> {
    sqlx::query_as("select * from notifications where organisation_id = $1 and id = any($2)")
        .bind(organisation_id)
        .bind(ids)
        .fetch_all(db)
        .await
}

/// Inserts unless the same event already notified this user; returns the row when new.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_notification(
    db: impl PgExecutor<'_>,
    n: NewNotification<'_>,
) -> sqlx::Result<Option<NotificationRow>> {
    sqlx::query_as(
        "insert into notifications (id, organisation_id, user_id, kind, title, message, link, metadata, source_event_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (source_event_id, user_id) where source_event_id is not null do nothing
         returning *",
    )
    .bind(Uuid::now_v7())
    .bind(n.organisation_id)
    .bind(n.user_id)
    .bind(n.kind)
    .bind(n.title)
    .bind(n.message)
    .bind(n.link)
    .bind(n.metadata)
    .bind(n.source_event_id)
    .fetch_optional(db)
    .await
}

/// A page of the user's notifications, newest first, and how many match.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn list_notifications_page(
    db: &sqlx::PgPool,
    organisation_id: Uuid,
    user_id: Uuid,
    unread_only: bool,
    page: &PageRequest,
) -> sqlx::Result<(Vec<NotificationRow>, i64)> {
    let total: i64 = sqlx::query_scalar(
        "select count(*) from notifications
         where organisation_id = $1 and user_id = $2 and (not $3 or read_at is null)",
    )
    .bind(organisation_id)
    .bind(user_id)
    .bind(unread_only)
    .fetch_one(db)
    .await?;
    let (after_at, after_id) = match &page.after {
        Some(k) => (k.instant_key(), Some(k.id)),
        None => (None, None),
    };
    let rows = sqlx::query_as(
        "select * from notifications
         where organisation_id = $1 and user_id = $2 and (not $3 or read_at is null)
           and ($4::timestamptz is null or (created_at, id) < ($4, $5))
         order by created_at desc, id desc limit $6",
    )
    .bind(organisation_id)
    .bind(user_id)
    .bind(unread_only)
    .bind(after_at)
    .bind(after_id)
    .bind(page.fetch_limit())
    .fetch_all(db)
    .await?;
    Ok((rows, total))
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn unread_count(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("select count(*) from notifications where organisation_id = $1 and user_id = $2 and read_at is null")
        .bind(organisation_id)
        .bind(user_id)
        .fetch_one(db)
        .await
}

/// Marks one of the user's notifications read (idempotent); `None` when it is not theirs.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn mark_read(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<NotificationRow>> {
    sqlx::query_as(
        "update notifications set read_at = coalesce(read_at, now())
         where organisation_id = $1 and user_id = $2 and id = $3 returning *",
    )
    .bind(organisation_id)
    .bind(user_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Marks all the user's notifications read; returns how many changed.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn mark_all_read(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "update notifications set read_at = now() where organisation_id = $1 and user_id = $2 and read_at is null",
    )
    .bind(organisation_id)
    .bind(user_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes the organisation's read notifications older than `days`; returns how many.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn purge_read_older_than(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    days: i32,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "delete from notifications
         where organisation_id = $1 and read_at is not null and created_at < now() - make_interval(days => $2)",
    )
    .bind(organisation_id)
    .bind(days)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
