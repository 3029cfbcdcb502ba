//! Client addresses: billing, shipping or other, with at most one default per kind.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::{client::AddressKind, societe::PostalAddress};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AddressRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub client_id: Uuid,
    pub kind: AddressKind,
    pub line1: String,
    pub line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    pub country: String,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Clears the default flag of the client's other addresses of `kind`.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn clear_default(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    client_id: Uuid,
    kind: AddressKind,
) -> sqlx::Result<()> {
    sqlx::query(
        "update addresses set is_default = false, updated_at = now()
         where organisation_id = $1 and client_id = $2 and kind = $3 and is_default",
    )
    .bind(organisation_id)
    .bind(client_id)
    .bind(kind)
    .execute(db)
    .await?;
    Ok(())
}

/// Whether the client has an address of `kind` yet (the first one becomes the default).
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn has_address_of_kind(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    client_id: Uuid,
    kind: AddressKind,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists(select 1 from addresses where organisation_id = $1 and client_id = $2 and kind = $3)",
    )
    .bind(organisation_id)
    .bind(client_id)
    .bind(kind)
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_address(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    client_id: Uuid,
    id: Uuid,
    kind: AddressKind,
    address: &PostalAddress,
    is_default: bool,
) -> sqlx::Result<AddressRow> {
    sqlx::query_as(
        "insert into addresses (id, organisation_id, client_id, kind, line1, line2, postal_code, city, country, is_default)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning *",
    )
    .bind(id)
    .bind(organisation_id)
    .bind(client_id)
    .bind(kind)
    .bind(&address.line1)
    .bind(&address.line2)
    .bind(&address.postal_code)
    .bind(&address.city)
    .bind(&address.country)
    .bind(is_default)
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn update_address(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    kind: AddressKind,
    address: &PostalAddress,
    is_default: bool,
) -> sqlx::Result<Option<AddressRow>> {
    sqlx::query_as(
        "update addresses set kind = $3, line1 = $4, line2 = $5, postal_code = $6, city = $7,
                country = $8, is_default = $9, updated_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(kind)
    .bind(&address.line1)
    .bind(&address.line2)
    .bind(&address.postal_code)
    .bind(&address.city)
    .bind(&address.country)
    .bind(is_default)
    .fetch_optional(db)
    .await
}

/// An address of a live client of the organisation, locked.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn lock_address(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<AddressRow>> {
    sqlx::query_as(
        "select a.* from addresses a join clients c on c.organisation_id = a.organisation_id and c.id = a.client_id
         where a.organisation_id = $1 and a.id = $2 and c.deleted_at is null for update of a",
    )
    .bind(organisation_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn delete_address(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query("delete from addresses where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Addresses of live clients among `ids`, or among `client_ids`: one statement per batch.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn addresses_by_ids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<AddressRow>> {
    sqlx::query_as(
        "select a.* from addresses a join clients c on c.organisation_id = a.organisation_id and c.id = a.client_id
         where a.organisation_id = $1 and a.id = any($2) and c.deleted_at is null",
    )
    .bind(organisation_id)
    .bind(ids)
    .fetch_all(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn addresses_of_clients(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    client_ids: &[Uuid],
) -> sqlx::Result<Vec<AddressRow>> {
    sqlx::query_as(
        "select * from addresses where organisation_id = $1 and client_id = any($2)
         order by client_id, kind, is_default desc, created_at, id",
    )
    .bind(organisation_id)
    .bind(client_ids)
    .fetch_all(db)
    .await
}

/// The client's billing address: the default one, else the oldest.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn billing_address(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    client_id: Uuid,
) -> sqlx::Result<Option<AddressRow>> {
    sqlx::query_as(
        "select * from addresses where organisation_id = $1 and client_id = $2 and kind = 'billing'
         order by is_default desc, created_at, id limit 1",
    )
    .bind(organisation_id)
    .bind(client_id)
    .fetch_optional(db)
    .await
}
