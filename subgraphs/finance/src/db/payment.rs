//! Payments recorded against invoices (cheques, transfers…).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub invoice_id: Uuid,
    pub amount: Decimal,
    pub paid_on: NaiveDate,
    pub method: crate::domain::invoice::PaymentMethod,
    pub reference: Option<String>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

#[allow(clippy::too_many_arguments)]
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_payment(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    invoice_id: Uuid,
    amount: Decimal,
    paid_on: NaiveDate,
    method: crate::domain::invoice::PaymentMethod,
    reference: Option<&str>,
    by: Uuid,
) -> sqlx::Result<PaymentRow> {
    sqlx::query_as(
        "insert into invoice_payments (id, organisation_id, invoice_id, amount, paid_on, method,
                                       reference, recorded_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning *",
    )
    .bind(Uuid::now_v7())
    .bind(organisation_id)
    .bind(invoice_id)
    .bind(amount)
    .bind(paid_on)
    .bind(method)
    .bind(reference)
    .bind(by)
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn payments_of(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    invoice_id: Uuid,
) -> sqlx::Result<Vec<PaymentRow>> {
    sqlx::query_as(
        "select * from invoice_payments where organisation_id = $1 and invoice_id = $2 order by paid_on, id",
    )
    .bind(organisation_id)
    .bind(invoice_id)
    .fetch_all(db)
    .await
}
