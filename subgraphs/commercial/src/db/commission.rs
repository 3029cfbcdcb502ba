//! Commissions and their clawbacks.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgExecutor, Postgres, QueryBuilder};
use subgraph_kit::pagination::{and_eq, newest_first, PageRequest};
use uuid::Uuid;

use crate::domain::commission::CommissionStatus;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommissionRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub reference: String,
    pub sales_rep_id: Uuid,
    pub contract_id: Uuid,
    pub payment_id: Uuid,
    pub source_event_id: Uuid,
    pub scale_id: Uuid,
    pub scale_version: i32,
    pub base_amount: Decimal,
    pub gross_amount: Decimal,
    pub bonus_amount: Decimal,
    pub net_amount: Decimal,
    pub currency: String,
    pub period: String,
    pub status: CommissionStatus,
    pub details: serde_json::Value,
    pub calculated_at: DateTime<Utc>,
    pub status_changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewCommission {
    pub sales_rep_id: Uuid,
    pub contract_id: Uuid,
    pub payment_id: Uuid,
    pub source_event_id: Uuid,
    pub scale_id: Uuid,
    pub scale_version: i32,
    pub base_amount: Decimal,
    pub gross_amount: Decimal,
    pub bonus_amount: Decimal,
    pub net_amount: Decimal,
    pub currency: String,
    pub period: String,
    pub details: serde_json::Value,
}

/// Inserts the commission of a payment; `None` when that payment already has one.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_commission(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    c: &NewCommission,
) -> sqlx::Result<Option<CommissionRow>> {
    let id = Uuid::now_v7();
    // COM-<period>-<the time-ordered id in hex>: unique, and sorts by time.
    let reference = format!("COM-{}-{}", c.period, id.simple()).to_uppercase();
    sqlx::query_as(
        "insert into commissions (id, organisation_id, reference, sales_rep_id, contract_id,
                payment_id, source_event_id, scale_id, scale_version, base_amount, gross_amount,
                bonus_amount, net_amount, currency, period, details)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         on conflict (organisation_id, payment_id) do nothing
         returning *",
    )
    .bind(id)
    .bind(organisation_id)
    .bind(reference)
    .bind(c.sales_rep_id)
    .bind(c.contract_id)
    .bind(c.payment_id)
    .bind(c.source_event_id)
    .bind(c.scale_id)
    .bind(c.scale_version)
    .bind(c.base_amount)
    .bind(c.gross_amount)
    .bind(c.bonus_amount)
    .bind(c.net_amount)
    .bind(&c.currency)
    .bind(&c.period)
    .bind(&c.details)
    .fetch_optional(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_commission(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<CommissionRow>> {
    sqlx::query_as("select * from commissions where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn lock_commission(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<CommissionRow>> {
    sqlx::query_as("select * from commissions where organisation_id = $1 and id = $2 for update")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_by_payment(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    payment_id: Uuid,
) -> sqlx::Result<Option<CommissionRow>> {
    sqlx::query_as(
        "select * from commissions where organisation_id = $1 and payment_id = $2 for update",
    )
    .bind(organisation_id)
    .bind(payment_id)
    .fetch_optional(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn commissions_by_ids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<CommissionRow>> {
    sqlx::query_as("select * from commissions where organisation_id = $1 and id = any($2)")
        .bind(organisation_id)
        .bind(ids)
        .fetch_all(db)
        .await
}

/// The commissions of a contract not cancelled, locked.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn lock_of_contract(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    contract_id: Uuid,
) -> sqlx::Result<Vec<CommissionRow>> {
    sqlx::query_as(
        "select * from commissions where organisation_id = $1 and contract_id = $2
           and status <> 'CANCELLED' order by id for update",
    )
    .bind(organisation_id)
    .bind(contract_id)
    .fetch_all(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn set_status(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    status: CommissionStatus,
) -> sqlx::Result<CommissionRow> {
    sqlx::query_as(
        "update commissions set status = $3, status_changed_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(status)
    .fetch_one(db)
    .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type, async_graphql::Enum)]
#[sqlx(type_name = "clawback_reason", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClawbackReason {
    /// The contract was terminated.
    Termination,
    /// The payment was finally rejected.
    PaymentRejected,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClawbackRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub commission_id: Uuid,
    pub reason: ClawbackReason,
    pub rate: Decimal,
    pub amount: Decimal,
    pub event_date: NaiveDate,
    pub created_at: DateTime<Utc>,
}

/// Records a clawback; `None` when the commission already has one.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_clawback(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    commission_id: Uuid,
    reason: ClawbackReason,
    rate: Decimal,
    amount: Decimal,
    event_date: NaiveDate,
) -> sqlx::Result<Option<ClawbackRow>> {
    sqlx::query_as(
        "insert into commission_clawbacks (id, organisation_id, commission_id, reason, rate,
                                           amount, event_date)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (organisation_id, commission_id) do nothing returning *",
    )
    .bind(Uuid::now_v7())
    .bind(organisation_id)
    .bind(commission_id)
    .bind(reason)
    .bind(rate)
    .bind(amount)
    .bind(event_date)
    .fetch_optional(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn clawbacks_of(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    commission_ids: &[Uuid],
) -> sqlx::Result<Vec<ClawbackRow>> {
    sqlx::query_as(
        "select * from commission_clawbacks where organisation_id = $1 and commission_id = any($2)",
    )
    .bind(organisation_id)
    .bind(commission_ids)
    .fetch_all(db)
    .await
}

/// Filters of the commission list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct CommissionFilter {
    pub sales_rep_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub status: Option<CommissionStatus>,
    pub period: Option<String>,
}

fn push_filter(q: &mut QueryBuilder<'_, Postgres>, organisation_id: Uuid, f: &CommissionFilter) {
    q.push(" where organisation_id = ")
        .push_bind(organisation_id);
    and_eq(q, "sales_rep_id", f.sales_rep_id);
    and_eq(q, "contract_id", f.contract_id);
    and_eq(q, "status", f.status);
    and_eq(q, "period", f.period.clone());
}

/// A page of commissions, newest first, and how many match.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn list_commissions_page(
    db: &sqlx::PgPool,
    organisation_id: Uuid,
    filter: &CommissionFilter,
    page: &PageRequest,
) -> sqlx::Result<(Vec<CommissionRow>, i64)> {
    let filter = |q: &mut QueryBuilder<'_, Postgres>| push_filter(q, organisation_id, filter);
    newest_first(db, "commissions", "calculated_at", filter, page).await
}
