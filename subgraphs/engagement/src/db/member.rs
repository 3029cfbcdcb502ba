//! The members projection: who belongs to which organisation with which role, as core's
//! events tell it.

use sqlx::PgExecutor;
use uuid::Uuid;

pub async fn upsert_member(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into members (organisation_id, user_id, role) values ($1, $2, $3)
         on conflict (organisation_id, user_id) do update set role = excluded.role, updated_at = now()",
    )
    .bind(organisation_id)
    .bind(user_id)
    .bind(role)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_member(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("delete from members where organisation_id = $1 and user_id = $2")
        .bind(organisation_id)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Members of the organisation whose role is one of `roles`.
pub async fn members_with_roles(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    roles: &[&str],
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("select user_id from members where organisation_id = $1 and role = any($2) order by user_id")
        .bind(organisation_id)
        .bind(roles)
        .fetch_all(db)
        .await
}

/// Whether `user_id` is a member of the organisation (from the members projection).
pub async fn is_member(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists(select 1 from members where organisation_id = $1 and user_id = $2)",
    )
    .bind(organisation_id)
    .bind(user_id)
    .fetch_one(db)
    .await
}
