//! Sign-ups waiting for their e-mail's confirmation (migration 0008), found by the SHA-256 of
//! their link's token.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignUpRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
    pub organisation_name: String,
    pub expires_at: DateTime<Utc>,
}

pub struct NewSignUp<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub organisation_name: &'a str,
    pub token_hash: &'a [u8],
    pub expires_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, organisation_id, email, password_hash, first_name, last_name, \
                       organisation_name, expires_at";

/// Stores the pending sign-up of `new.email`, replacing an earlier one (its link stops
/// working); a new id and organisation id each time.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn upsert(db: impl PgExecutor<'_>, new: NewSignUp<'_>) -> sqlx::Result<SignUpRow> {
    sqlx::query_as(&format!(
        "insert into sign_ups (id, organisation_id, email, password_hash, first_name, last_name,
                               organisation_name, token_hash, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (email) do update set
           id = excluded.id, organisation_id = excluded.organisation_id,
           password_hash = excluded.password_hash, first_name = excluded.first_name,
           last_name = excluded.last_name, organisation_name = excluded.organisation_name,
           token_hash = excluded.token_hash, expires_at = excluded.expires_at, created_at = now()
         returning {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(Uuid::now_v7())
    .bind(new.email)
    .bind(new.password_hash)
    .bind(new.first_name)
    .bind(new.last_name)
    .bind(new.organisation_name)
    .bind(new.token_hash)
    .bind(new.expires_at)
    .fetch_one(db)
    .await
}

/// The sign-up of `token_hash`, expired or not.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_by_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> sqlx::Result<Option<SignUpRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from sign_ups where token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Whether `email` asked for a sign-up less than a minute ago.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn asked_within_a_minute(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists(select 1 from sign_ups
                        where email = $1 and created_at > now() - interval '1 minute')",
    )
    .bind(email)
    .fetch_one(db)
    .await
}

/// Whether `user_id`'s owner was told of a sign-up with their e-mail in the last hour (the
/// outbox keeps what was recorded).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn existing_account_told_recently(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists(select 1 from outbox
                        where event_type = 'sign_up.existing_account'
                          and created_at > now() - interval '1 hour'
                          and envelope -> 'payload' ->> 'user_id' = $1::text)",
    )
    .bind(user_id)
    .fetch_one(db)
    .await
}

/// The unexpired sign-up of `token_hash`, locked.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_by_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> sqlx::Result<Option<SignUpRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from sign_ups where token_hash = $1 and expires_at > now() for update"
    ))
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from sign_ups where id = $1")
        .bind(id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Deletes the expired ones; the purge job.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn purge(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    sqlx::query("delete from sign_ups where expires_at < now()")
        .execute(db)
        .await
        .map(|done| done.rows_affected())
}
