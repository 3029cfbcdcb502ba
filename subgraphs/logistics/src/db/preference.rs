//! A client's own postal setting: its invoices go by post, or not.

use sqlx::PgExecutor;
use uuid::Uuid;

pub async fn set(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    client_id: Uuid,
    invoices_by_post: Option<bool>,
    updated_by: Uuid,
) -> sqlx::Result<()> {
    match invoices_by_post {
        Some(value) => {
            sqlx::query(
                "insert into postal_preferences (organisation_id, client_id, invoices_by_post, updated_by)
                 values ($1, $2, $3, $4)
                 on conflict (organisation_id, client_id) do update
                 set invoices_by_post = excluded.invoices_by_post, updated_by = excluded.updated_by,
                     updated_at = now()",
            )
            .bind(organisation_id)
            .bind(client_id)
            .bind(value)
            .bind(updated_by)
            .execute(db)
            .await?;
        }
        None => {
            sqlx::query(
                "delete from postal_preferences where organisation_id = $1 and client_id = $2",
            )
            .bind(organisation_id)
            .bind(client_id)
            .execute(db)
            .await?;
        }
    }
    Ok(())
}

/// The client's own setting, if it has one.
pub async fn of_client(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    client_id: Uuid,
) -> sqlx::Result<Option<bool>> {
    sqlx::query_scalar(
        "select invoices_by_post from postal_preferences where organisation_id = $1 and client_id = $2",
    )
    .bind(organisation_id)
    .bind(client_id)
    .fetch_optional(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PreferenceRow {
    pub client_id: Uuid,
    pub invoices_by_post: bool,
}

/// The own settings of many clients (those that have one).
pub async fn of_clients(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    client_ids: &[Uuid],
) -> sqlx::Result<Vec<PreferenceRow>> {
    sqlx::query_as(
        "select client_id, invoices_by_post from postal_preferences
         where organisation_id = $1 and client_id = any($2)",
    )
    .bind(organisation_id)
    .bind(client_ids)
    .fetch_all(db)
    .await
}
