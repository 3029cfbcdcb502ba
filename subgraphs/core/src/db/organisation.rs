//! Organisations: the tenants.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrganisationRow {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_organisation(
    db: impl PgExecutor<'_>,
    id: Uuid,
    name: &str,
) -> sqlx::Result<OrganisationRow> {
    sqlx::query_as("insert into organisations (id, name) values ($1, $2) returning *")
        .bind(id)
        .bind(name)
        .fetch_one(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_organisation(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> sqlx::Result<Option<OrganisationRow>> {
    sqlx::query_as("select * from organisations where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn update_organisation_name(
    db: impl PgExecutor<'_>,
    id: Uuid,
    name: &str,
) -> sqlx::Result<Option<OrganisationRow>> {
    sqlx::query_as(
        "update organisations set name = $2, updated_at = now() where id = $1 returning *",
    )
    .bind(id)
    .bind(name)
    .fetch_optional(db)
    .await
}

/// Organisations among `ids` (one statement for a user's memberships).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn organisations_by_ids(
    db: impl PgExecutor<'_>,
    ids: &[Uuid],
) -> sqlx::Result<Vec<OrganisationRow>> {
    sqlx::query_as("select * from organisations where id = any($1)")
        .bind(ids)
        .fetch_all(db)
        .await
}
