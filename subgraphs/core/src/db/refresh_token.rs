//! Refresh tokens and their families (migration 0005): tokens stored by the SHA-256 of their
//! secret and rotated on use; revocation on the family, which a rotation locks.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// A token and the family it belongs to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefreshTokenRow {
    pub id: Uuid,
    pub family_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FamilyRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub organisation_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_family(
    db: impl PgExecutor<'_>,
    id: Uuid,
    user_id: Uuid,
    organisation_id: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query("insert into refresh_families (id, user_id, organisation_id) values ($1, $2, $3)")
        .bind(id)
        .bind(user_id)
        .bind(organisation_id)
        .execute(db)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_token(
    db: impl PgExecutor<'_>,
    family_id: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into refresh_tokens (id, family_id, token_hash, expires_at) values ($1, $2, $3, $4)",
    )
    .bind(Uuid::now_v7())
    .bind(family_id)
    .bind(token_hash)
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The token with this hash, locked until the transaction ends (one rotation at a time).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> sqlx::Result<Option<RefreshTokenRow>> {
    sqlx::query_as(
        "select id, family_id, expires_at, used_at from refresh_tokens
         where token_hash = $1 for update",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// A family, locked until the transaction ends: revocations wait for the rotation holding it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_family(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<FamilyRow>> {
    sqlx::query_as(
        "select id, user_id, organisation_id, created_at, revoked_at from refresh_families
         where id = $1 for update",
    )
    .bind(id)
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

/// Revokes a family.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_family(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "update refresh_families set revoked_at = now() where id = $1 and revoked_at is null",
    )
    .bind(id)
    .execute(db)
    .await?
    .rows_affected())
}

/// Revokes every family of a user (a password change).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_user(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "update refresh_families set revoked_at = now() where user_id = $1 and revoked_at is null",
    )
    .bind(user_id)
    .execute(db)
    .await?
    .rows_affected())
}

/// Revokes every family of a user acting in one organisation (the membership ended).
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn revoke_membership(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "update refresh_families set revoked_at = now()
         where user_id = $1 and organisation_id = $2 and revoked_at is null",
    )
    .bind(user_id)
    .bind(organisation_id)
    .execute(db)
    .await?
    .rows_affected())
}

/// Deletes tokens expired for a day, then the families left without tokens.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn purge(db: &sqlx::PgPool) -> sqlx::Result<u64> {
    let tokens =
        sqlx::query("delete from refresh_tokens where expires_at < now() - interval '1 day'")
            .execute(db)
            .await?
            .rows_affected();
    let families = sqlx::query(
        "delete from refresh_families f
         where not exists (select 1 from refresh_tokens t where t.family_id = f.id)
           and f.created_at < now() - interval '1 day'",
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(tokens + families)
}
