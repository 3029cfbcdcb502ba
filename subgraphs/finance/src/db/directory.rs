//! What finance knows of core's data, from core's events: clients (with the identity an
//! invoice starts from) and sociétés.

use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientRow {
    pub organisation_id: Uuid,
    pub id: Uuid,
    pub name: String,
    pub siren: Option<String>,
    pub vat_number: Option<String>,
    pub email: Option<String>,
    pub payment_terms_days: i32,
    pub deleted: bool,
    pub billing_line1: Option<String>,
    pub billing_line2: Option<String>,
    pub billing_postal_code: Option<String>,
    pub billing_city: Option<String>,
    pub billing_country: Option<String>,
}

pub async fn upsert_client(db: impl PgExecutor<'_>, c: &ClientRow) -> sqlx::Result<()> {
    sqlx::query(
        "insert into clients (organisation_id, id, name, siren, vat_number, email, payment_terms_days,
                              deleted, billing_line1, billing_line2, billing_postal_code,
                              billing_city, billing_country)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         on conflict (organisation_id, id) do update set name = excluded.name, siren = excluded.siren,
             vat_number = excluded.vat_number, email = excluded.email,
             payment_terms_days = excluded.payment_terms_days, deleted = excluded.deleted,
             billing_line1 = excluded.billing_line1, billing_line2 = excluded.billing_line2,
             billing_postal_code = excluded.billing_postal_code,
             billing_city = excluded.billing_city, billing_country = excluded.billing_country,
             updated_at = now()",
    )
    .bind(c.organisation_id)
    .bind(c.id)
    .bind(&c.name)
    .bind(&c.siren)
    .bind(&c.vat_number)
    .bind(&c.email)
    .bind(c.payment_terms_days)
    .bind(c.deleted)
    .bind(&c.billing_line1)
    .bind(&c.billing_line2)
    .bind(&c.billing_postal_code)
    .bind(&c.billing_city)
    .bind(&c.billing_country)
    .execute(db)
    .await?;
    Ok(())
}

/// A client of the organisation, not deleted.
pub async fn find_client(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ClientRow>> {
    sqlx::query_as(
        "select organisation_id, id, name, siren, vat_number, email, payment_terms_days, deleted,
                billing_line1, billing_line2, billing_postal_code, billing_city, billing_country
         from clients where organisation_id = $1 and id = $2 and not deleted",
    )
    .bind(organisation_id)
    .bind(id)
    .fetch_optional(db)
    .await
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
