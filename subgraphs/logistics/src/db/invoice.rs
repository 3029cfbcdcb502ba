//! Issued invoices, as finance's `invoice.issued` announced them: what a letter may carry.

use chrono::NaiveDate;
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvoiceRow {
    pub id: Uuid,
    pub societe_id: Uuid,
    pub client_id: Uuid,
    pub contract_id: Option<Uuid>,
    pub number: String,
    pub document_sha256: String,
    pub issued_on: Option<NaiveDate>,
}

/// Records an issued invoice (once: an issued invoice never changes).
pub async fn record(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    invoice: &InvoiceRow,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into invoices (organisation_id, id, societe_id, client_id, contract_id, number,
                               document_sha256, issued_on)
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing",
    )
    .bind(organisation_id)
    .bind(invoice.id)
    .bind(invoice.societe_id)
    .bind(invoice.client_id)
    .bind(invoice.contract_id)
    .bind(&invoice.number)
    .bind(&invoice.document_sha256)
    .bind(invoice.issued_on)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn find(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<InvoiceRow>> {
    sqlx::query_as(
        "select id, societe_id, client_id, contract_id, number, document_sha256, issued_on
         from invoices where organisation_id = $1 and id = $2",
    )
    .bind(organisation_id)
    .bind(id)
    .fetch_optional(db)
    .await
}
