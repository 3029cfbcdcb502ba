//! Password reset links (migration 0008), found by the SHA-256 of their token.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PasswordResetRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub user_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, organisation_id, user_id, expires_at";

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_id: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> sqlx::Result<PasswordResetRow> {
    sqlx::query_as(&format!(
        "insert into password_resets (id, organisation_id, user_id, token_hash, expires_at)
         values ($1, $2, $3, $4, $5) returning {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(organisation_id)
    .bind(user_id)
    .bind(token_hash)
    .bind(expires_at)
    .fetch_one(db)
    .await
}

/// How many links `user_id` was sent in the last hour.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn sent_last_hour(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select count(*) from password_resets
          where user_id = $1 and created_at > now() - interval '1 hour'",
    )
    .bind(user_id)
    .fetch_one(db)
    .await
}

/// The unused, unexpired link of `token_hash`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_usable(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> sqlx::Result<Option<PasswordResetRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from password_resets
          where token_hash = $1 and used_at is null and expires_at > now()"
    ))
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// The unused, unexpired link of `token_hash`, locked.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_by_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> sqlx::Result<Option<PasswordResetRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from password_resets
          where token_hash = $1 and used_at is null and expires_at > now() for update"
    ))
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Ends every unused link of `user_id` (one was used, or the password changed).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn end_all(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update password_resets set used_at = now() where user_id = $1 and used_at is null")
        .bind(user_id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Deletes links expired for a day (kept that long to count the hourly limit); the purge job.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn purge(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    sqlx::query("delete from password_resets where expires_at < now() - interval '1 day'")
        .execute(db)
        .await
        .map(|done| done.rows_affected())
}
