//! What commercial knows of core's data, from core's events: clients, sociétés and members.
//! Inputs naming them are checked here, so a foreign or unknown id is refused.

use sqlx::PgExecutor;
use uuid::Uuid;

pub async fn upsert_client(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    name: &str,
    deleted: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into clients (organisation_id, id, name, deleted) values ($1, $2, $3, $4)
         on conflict (organisation_id, id)
         do update set name = excluded.name, deleted = excluded.deleted, updated_at = now()",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(name)
    .bind(deleted)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn upsert_societe(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    name: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into societes (organisation_id, id, name) values ($1, $2, $3)
         on conflict (organisation_id, id) do update set name = excluded.name, updated_at = now()",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(name)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_societe(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("delete from societes where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn upsert_member(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into members (organisation_id, user_id) values ($1, $2)
         on conflict (organisation_id, user_id) do update set updated_at = now()",
    )
    .bind(organisation_id)
    .bind(user_id)
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

/// Whether the organisation has this client, not deleted.
pub async fn client_exists(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists(select 1 from clients where organisation_id = $1 and id = $2 and not deleted)",
    )
    .bind(organisation_id)
    .bind(id)
    .fetch_one(db)
    .await
}

pub async fn societe_exists(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists(select 1 from societes where organisation_id = $1 and id = $2)",
    )
    .bind(organisation_id)
    .bind(id)
    .fetch_one(db)
    .await
}

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
