//! Activities and activity types.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use subgraph_kit::pagination::PageRequest;
use uuid::Uuid;

/// The types every organisation starts with.
pub const DEFAULT_TYPES: [(&str, &str); 5] = [
    ("CALL", "Appel"),
    ("EMAIL", "E-mail"),
    ("MEETING", "Rendez-vous"),
    ("TASK", "Tâche"),
    ("NOTE", "Note"),
];

/// Constraint: one code per organisation.
pub const CODE_CONSTRAINT: &str = "activity_types_code_key";
/// Constraint: activities refer to types of their organisation (also blocks deleting a used type).
pub const TYPE_CONSTRAINT: &str = "activities_type_fkey";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivityTypeRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub code: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivityRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub type_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub subject: String,
    pub comment: Option<String>,
    pub client_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    /// Null: recorded by the system.
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// Gives an organisation the default types it lacks.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn ensure_default_types(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
) -> sqlx::Result<()> {
    let (codes, labels): (Vec<&str>, Vec<&str>) = DEFAULT_TYPES.iter().copied().unzip();
    sqlx::query(
        "insert into activity_types (id, organisation_id, code, label)
         select gen_random_uuid(), $1, code, label from unnest($2::text[], $3::text[]) as t(code, label)
         on conflict (organisation_id, code) do nothing",
    )
    .bind(organisation_id)
    .bind(&codes)
    .bind(&labels)
    .execute(db)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn list_types(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
) -> sqlx::Result<Vec<ActivityTypeRow>> {
    sqlx::query_as("select * from activity_types where organisation_id = $1 order by code")
        .bind(organisation_id)
        .fetch_all(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_type(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ActivityTypeRow>> {
    sqlx::query_as("select * from activity_types where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_type(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    code: &str,
    label: &str,
) -> sqlx::Result<ActivityTypeRow> {
    sqlx::query_as("insert into activity_types (id, organisation_id, code, label) values ($1, $2, $3, $4) returning *")
        .bind(Uuid::now_v7())
        .bind(organisation_id)
        .bind(code)
        .bind(label)
        .fetch_one(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn delete_type(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query("delete from activity_types where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub struct NewActivity<'a> {
    pub type_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub subject: &'a str,
    pub comment: Option<&'a str>,
    pub client_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_activity(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    created_by: Option<Uuid>,
    a: NewActivity<'_>,
) -> sqlx::Result<ActivityRow> {
    sqlx::query_as(
        "insert into activities (id, organisation_id, type_id, occurred_at, subject, comment, client_id, contract_id, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning *",
    )
    .bind(Uuid::now_v7())
    .bind(organisation_id)
    .bind(a.type_id)
    .bind(a.occurred_at)
    .bind(a.subject)
    .bind(a.comment)
    .bind(a.client_id)
    .bind(a.contract_id)
    .bind(created_by)
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_activity(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ActivityRow>> {
    sqlx::query_as("select * from activities where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Activities by id: the one statement behind an `_entities` batch.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn activities_by_ids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<ActivityRow>> {
    sqlx::query_as("select * from activities where organisation_id = $1 and id = any($2)")
        .bind(organisation_id)
        .bind(ids)
        .fetch_all(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn delete_activity(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query("delete from activities where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A page of the organisation's activities, newest first, optionally of one client.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn list_activities_page(
    db: &sqlx::PgPool,
    organisation_id: Uuid,
    client_id: Option<Uuid>,
    page: &PageRequest,
) -> sqlx::Result<(Vec<ActivityRow>, i64)> {
    let total: i64 = sqlx::query_scalar(
        "select count(*) from activities where organisation_id = $1 and ($2::uuid is null or client_id = $2)",
    )
    .bind(organisation_id)
    .bind(client_id)
    .fetch_one(db)
    .await?;
    let after_at = page.after.as_ref().and_then(|k| k.instant_key());
    let rows = sqlx::query_as(
        "select * from activities
         where organisation_id = $1 and ($2::uuid is null or client_id = $2)
           and ($3::timestamptz is null or (occurred_at, id) < ($3, $4))
         order by occurred_at desc, id desc limit $5",
    )
    .bind(organisation_id)
    .bind(client_id)
    .bind(after_at)
    .bind(page.after.as_ref().map(|k| k.id))
    .bind(page.fetch_limit())
    .fetch_all(db)
    .await?;
    Ok((rows, total))
}

/// Activity types by id (for batched resolution).
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn types_by_ids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<ActivityTypeRow>> {
    sqlx::query_as("select * from activity_types where organisation_id = $1 and id = any($2)")
        .bind(organisation_id)
        .bind(ids)
        .fetch_all(db)
        .await
}

/// The id of the organisation's activity type `code`, made with `label` if it lacks it.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn type_id(
    db: &mut sqlx::PgConnection,
    organisation_id: Uuid,
    code: &str,
    label: &str,
) -> sqlx::Result<Uuid> {
    sqlx::query(
        "insert into activity_types (id, organisation_id, code, label) values ($1, $2, $3, $4)
         on conflict (organisation_id, code) do nothing",
    )
    .bind(Uuid::now_v7())
    .bind(organisation_id)
    .bind(code)
    .bind(label)
    .execute(&mut *db)
    .await?;
    sqlx::query_scalar("select id from activity_types where organisation_id = $1 and code = $2")
        .bind(organisation_id)
        .bind(code)
        .fetch_one(db)
        .await
}
