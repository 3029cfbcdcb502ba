//! Memberships: which users belong to which organisation, with which role.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, Row};
use subgraph_kit::Role;
use uuid::Uuid;

use super::role_from_db;

#[derive(Debug, Clone)]
pub struct MembershipRow {
    pub organisation_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for MembershipRow {
    fn from_row(row: &'r sqlx::postgres::PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            organisation_id: row.try_get("organisation_id")?,
            user_id: row.try_get("user_id")?,
            role: role_from_db(row.try_get("role")?)?,
            created_at: row.try_get("created_at")?,
        })
    }
}

const COLUMNS: &str = "organisation_id, user_id, role::text as role, created_at";

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_membership(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_id: Uuid,
    role: Role,
) -> sqlx::Result<MembershipRow> {
    sqlx::query_as(&format!(
        "insert into memberships (organisation_id, user_id, role) values ($1, $2, $3::member_role) returning {COLUMNS}"
    ))
    .bind(organisation_id)
    .bind(user_id)
    .bind(role.as_str())
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_membership(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<Option<MembershipRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from memberships where organisation_id = $1 and user_id = $2"
    ))
    .bind(organisation_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// A user's memberships, oldest first (the default organisation at login is the first).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn memberships_of_user(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> sqlx::Result<Vec<MembershipRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from memberships where user_id = $1 order by created_at, organisation_id"
    ))
    .bind(user_id)
    .fetch_all(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn members_of_organisation(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
) -> sqlx::Result<Vec<MembershipRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from memberships where organisation_id = $1 order by created_at, user_id"
    ))
    .bind(organisation_id)
    .fetch_all(db)
    .await
}

/// Locks the organisation's memberships for the rest of the transaction, so that owner
/// counts cannot change under a role change or removal.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn lock_members(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
) -> sqlx::Result<Vec<MembershipRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from memberships where organisation_id = $1 order by user_id for update"
    ))
    .bind(organisation_id)
    .fetch_all(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn update_role(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_id: Uuid,
    role: Role,
) -> sqlx::Result<Option<MembershipRow>> {
    sqlx::query_as(&format!(
        "update memberships set role = $3::member_role where organisation_id = $1 and user_id = $2 returning {COLUMNS}"
    ))
    .bind(organisation_id)
    .bind(user_id)
    .bind(role.as_str())
    .fetch_optional(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn delete_membership(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query("delete from memberships where organisation_id = $1 and user_id = $2")
        .bind(organisation_id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
