//! Users. A user is global; who may see one is decided through memberships.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub password_hash: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct NewUser<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_user(db: impl PgExecutor<'_>, user: NewUser<'_>) -> sqlx::Result<UserRow> {
    sqlx::query_as(
        "insert into users (id, email, password_hash, first_name, last_name)
         values ($1, $2, $3, $4, $5) returning *",
    )
    .bind(user.id)
    .bind(user.email)
    .bind(user.password_hash)
    .bind(user.first_name)
    .bind(user.last_name)
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_user(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as("select * from users where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_user_by_email(
    db: impl PgExecutor<'_>,
    email: &str,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as("select * from users where email = $1")
        .bind(email)
        .fetch_optional(db)
        .await
}

/// The users among `ids` who are members of `organisation_id` (one statement per batch).
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn users_in_organisation(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<UserRow>> {
    sqlx::query_as(
        "select u.* from users u
         join memberships m on m.user_id = u.id and m.organisation_id = $1
         where u.id = any($2)",
    )
    .bind(organisation_id)
    .bind(ids)
    .fetch_all(db)
    .await
}

/// Sets a user's password hash.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_password(db: impl PgExecutor<'_>, user_id: Uuid, hash: &str) -> sqlx::Result<()> {
    sqlx::query("update users set password_hash = $2, updated_at = now() where id = $1")
        .bind(user_id)
        .bind(hash)
        .execute(db)
        .await?;
    Ok(())
}
