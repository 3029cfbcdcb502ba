//! Refresh tokens (migration 0005): stored by the SHA-256 of their secret, rotated on use,
//! revoked by family, by user, or by membership.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshTokenRow {
    pub id: Uuid,
    pub family_id: Uuid,
    pub user_id: Uuid,
    pub organisation_id: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub struct NewRefreshToken<'a> {
    pub id: Uuid,
    pub family_id: Uuid,
    pub user_id: Uuid,
    pub organisation_id: Option<Uuid>,
    pub token_hash: &'a [u8],
    pub expires_at: DateTime<Utc>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert(db: impl PgExecutor<'_>, token: NewRefreshToken<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into refresh_tokens (id, family_id, user_id, organisation_id, token_hash, expires_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token.id)
    .bind(token.family_id)
    .bind(token.user_id)
    .bind(token.organisation_id)
    .bind(token.token_hash)
    .bind(token.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The token with this hash, locked until the transaction ends (one rotation at a time).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_by_hash(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> sqlx::Result<Option<RefreshTokenRow>> {
    sqlx::query_as(
        "select id, family_id, user_id, organisation_id, expires_at, used_at, revoked_at
         from refresh_tokens where token_hash = $1 for update",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_used(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update refresh_tokens set used_at = now() where id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Revokes every live token of a family.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_family(db: impl PgExecutor<'_>, family_id: Uuid) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "update refresh_tokens set revoked_at = now() where family_id = $1 and revoked_at is null",
    )
    .bind(family_id)
    .execute(db)
    .await?
    .rows_affected())
}

/// Revokes every live token of a user (a password change).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_user(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "update refresh_tokens set revoked_at = now() where user_id = $1 and revoked_at is null",
    )
    .bind(user_id)
    .execute(db)
    .await?
    .rows_affected())
}

/// Revokes every live token of a user acting in one organisation (the membership ended).
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn revoke_membership(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "update refresh_tokens set revoked_at = now()
         where user_id = $1 and organisation_id = $2 and revoked_at is null",
    )
    .bind(user_id)
    .bind(organisation_id)
    .execute(db)
    .await?
    .rows_affected())
}

/// Deletes tokens expired for a day (their families are dead anyway).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn purge(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("delete from refresh_tokens where expires_at < now() - interval '1 day'")
            .execute(db)
            .await?
            .rows_affected(),
    )
}
