//! Sociétés: the organisation's legal entities.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::societe::SocieteFields;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SocieteRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
    pub siren: String,
    pub siret: Option<String>,
    pub vat_number: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

type SocieteQuery<'q> =
    sqlx::query::QueryAs<'q, sqlx::Postgres, SocieteRow, sqlx::postgres::PgArguments>;

/// Binds a société's fields as `$3…$11`, in the column order both statements below use.
fn bind_fields<'q>(query: SocieteQuery<'q>, s: &'q SocieteFields) -> SocieteQuery<'q> {
    let address = s.address.as_ref();
    query
        .bind(&s.name)
        .bind(&s.siren)
        .bind(&s.siret)
        .bind(&s.vat_number)
        .bind(address.map(|a| &a.line1))
        .bind(address.and_then(|a| a.line2.as_ref()))
        .bind(address.map(|a| &a.postal_code))
        .bind(address.map(|a| &a.city))
        .bind(address.map(|a| &a.country))
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_societe(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    s: &SocieteFields,
) -> sqlx::Result<SocieteRow> {
    let query = sqlx::query_as(
        "insert into societes (id, organisation_id, name, siren, siret, vat_number,
                               address_line1, address_line2, postal_code, city, country)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, coalesce($11, 'FR')) returning *",
    )
    .bind(id)
    .bind(organisation_id);
    bind_fields(query, s).fetch_one(db).await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn update_societe(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    s: &SocieteFields,
) -> sqlx::Result<Option<SocieteRow>> {
    let query = sqlx::query_as(
        "update societes set name = $3, siren = $4, siret = $5, vat_number = $6,
                address_line1 = $7, address_line2 = $8, postal_code = $9, city = $10,
                country = coalesce($11, 'FR'), updated_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id);
    bind_fields(query, s).fetch_optional(db).await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_societe(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<SocieteRow>> {
    sqlx::query_as("select * from societes where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn societes_by_ids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<SocieteRow>> {
    sqlx::query_as("select * from societes where organisation_id = $1 and id = any($2)")
        .bind(organisation_id)
        .bind(ids)
        .fetch_all(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn list_societes(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
) -> sqlx::Result<Vec<SocieteRow>> {
    sqlx::query_as("select * from societes where organisation_id = $1 order by lower(name), id")
        .bind(organisation_id)
        .fetch_all(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn delete_societe(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<SocieteRow>> {
    sqlx::query_as("delete from societes where organisation_id = $1 and id = $2 returning *")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}
