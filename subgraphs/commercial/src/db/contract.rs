//! Contracts, their lines and their status history.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder};
use subgraph_kit::pagination::{and_eq, newest_first, PageRequest};
use uuid::Uuid;

use crate::domain::{
    contract::{BillingFrequency, ContractStatus},
    money::Totals,
};

pub const REFERENCE_KEY: &str = "contracts_reference_key";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContractRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub reference: String,
    pub title: String,
    pub description: Option<String>,
    pub client_id: Uuid,
    pub societe_id: Option<Uuid>,
    pub sales_rep_id: Option<Uuid>,
    pub sales_channel: Option<String>,
    pub status: ContractStatus,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub signature_date: Option<NaiveDate>,
    pub billing_frequency: BillingFrequency,
    pub currency: String,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
    pub notes: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A contract's editable fields, valid (client, société and rep checked to be the caller's).
#[derive(Debug, Clone)]
pub struct ContractFields {
    pub reference: String,
    pub title: String,
    pub description: Option<String>,
    pub client_id: Uuid,
    pub societe_id: Option<Uuid>,
    pub sales_rep_id: Option<Uuid>,
    pub sales_channel: Option<String>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub billing_frequency: BillingFrequency,
    pub notes: Option<String>,
}

type ContractQuery<'q> =
    sqlx::query::QueryAs<'q, Postgres, ContractRow, sqlx::postgres::PgArguments>;

/// Binds the editable fields as `$3…$13`, in the column order both statements use.
fn bind_fields<'q>(query: ContractQuery<'q>, f: &'q ContractFields) -> ContractQuery<'q> {
    query
        .bind(&f.reference)
        .bind(&f.title)
        .bind(&f.description)
        .bind(f.client_id)
        .bind(f.societe_id)
        .bind(f.sales_rep_id)
        .bind(&f.sales_channel)
        .bind(f.start_date)
        .bind(f.end_date)
        .bind(f.billing_frequency)
        .bind(&f.notes)
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_contract(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    created_by: Uuid,
    f: &ContractFields,
) -> sqlx::Result<ContractRow> {
    let query = sqlx::query_as(
        "insert into contracts (id, organisation_id, reference, title, description, client_id,
                                societe_id, sales_rep_id, sales_channel, start_date, end_date,
                                billing_frequency, notes, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) returning *",
    )
    .bind(Uuid::now_v7())
    .bind(organisation_id);
    bind_fields(query, f).bind(created_by).fetch_one(db).await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn update_contract(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    f: &ContractFields,
) -> sqlx::Result<ContractRow> {
    let query = sqlx::query_as(
        "update contracts set reference = $3, title = $4, description = $5, client_id = $6,
                societe_id = $7, sales_rep_id = $8, sales_channel = $9, start_date = $10,
                end_date = $11, billing_frequency = $12, notes = $13, updated_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id);
    bind_fields(query, f).fetch_one(db).await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_contract(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ContractRow>> {
    sqlx::query_as("select * from contracts where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The contract, locked for the caller's transaction (every status change and line edit
/// goes through this, so concurrent changes serialise).
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn lock_contract(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ContractRow>> {
    sqlx::query_as("select * from contracts where organisation_id = $1 and id = $2 for update")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_contract_by_reference(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    reference: &str,
) -> sqlx::Result<Option<ContractRow>> {
    sqlx::query_as("select * from contracts where organisation_id = $1 and reference = $2")
        .bind(organisation_id)
        .bind(reference)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn contracts_by_ids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<ContractRow>> {
    sqlx::query_as("select * from contracts where organisation_id = $1 and id = any($2)")
        .bind(organisation_id)
        .bind(ids)
        .fetch_all(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn delete_contract(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("delete from contracts where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn set_status(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    status: ContractStatus,
    signature_date: Option<NaiveDate>,
) -> sqlx::Result<ContractRow> {
    sqlx::query_as(
        "update contracts set status = $3, signature_date = coalesce($4, signature_date),
                updated_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(status)
    .bind(signature_date)
    .fetch_one(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct HistoryRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub contract_id: Uuid,
    pub from_status: Option<ContractStatus>,
    pub to_status: ContractStatus,
    pub changed_by: Option<Uuid>,
    pub changed_at: DateTime<Utc>,
    pub reason: Option<String>,
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_history(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    contract_id: Uuid,
    from: Option<ContractStatus>,
    to: ContractStatus,
    by: Option<Uuid>,
    reason: Option<&str>,
) -> sqlx::Result<HistoryRow> {
    sqlx::query_as(
        "insert into contract_status_history (id, organisation_id, contract_id, from_status,
                                              to_status, changed_by, reason)
         values ($1, $2, $3, $4, $5, $6, $7) returning *",
    )
    .bind(Uuid::now_v7())
    .bind(organisation_id)
    .bind(contract_id)
    .bind(from)
    .bind(to)
    .bind(by)
    .bind(reason)
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn history(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    contract_id: Uuid,
) -> sqlx::Result<Vec<HistoryRow>> {
    sqlx::query_as(
        "select * from contract_status_history where organisation_id = $1 and contract_id = $2
         order by changed_at, id",
    )
    .bind(organisation_id)
    .bind(contract_id)
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct LineRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub contract_id: Uuid,
    pub position: i32,
    pub product_id: Uuid,
    pub description: Option<String>,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub vat_rate: Decimal,
    pub billing_period: Option<BillingFrequency>,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
}

/// A line's fields, valid, with its totals.
#[derive(Debug, Clone)]
pub struct LineFields {
    pub product_id: Uuid,
    pub description: Option<String>,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub vat_rate: Decimal,
    pub billing_period: Option<BillingFrequency>,
    pub totals: Totals,
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_line(
    db: &mut PgConnection,
    organisation_id: Uuid,
    contract_id: Uuid,
    f: &LineFields,
) -> sqlx::Result<LineRow> {
    sqlx::query_as(
        "insert into contract_lines (id, organisation_id, contract_id, position, product_id,
                                     description, quantity, unit_price, vat_rate, billing_period,
                                     total_excl_vat, total_vat, total_incl_vat)
         values ($1, $2, $3,
                 (select coalesce(max(position), 0) + 1 from contract_lines
                  where organisation_id = $2 and contract_id = $3),
                 $4, $5, $6, $7, $8, $9, $10, $11, $12)
         returning *",
    )
    .bind(Uuid::now_v7())
    .bind(organisation_id)
    .bind(contract_id)
    .bind(f.product_id)
    .bind(&f.description)
    .bind(f.quantity)
    .bind(f.unit_price)
    .bind(f.vat_rate)
    .bind(f.billing_period)
    .bind(f.totals.excl_vat)
    .bind(f.totals.vat)
    .bind(f.totals.incl_vat)
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn update_line(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    f: &LineFields,
) -> sqlx::Result<LineRow> {
    sqlx::query_as(
        "update contract_lines set product_id = $3, description = $4, quantity = $5,
                unit_price = $6, vat_rate = $7, billing_period = $8, total_excl_vat = $9,
                total_vat = $10, total_incl_vat = $11
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(f.product_id)
    .bind(&f.description)
    .bind(f.quantity)
    .bind(f.unit_price)
    .bind(f.vat_rate)
    .bind(f.billing_period)
    .bind(f.totals.excl_vat)
    .bind(f.totals.vat)
    .bind(f.totals.incl_vat)
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_line(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<LineRow>> {
    sqlx::query_as("select * from contract_lines where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Lines a contract may have: its `contract.signed` event, which carries them, stays well
/// within the bus's event size.
pub const MAX_LINES: usize = 100;

/// How many lines a contract has.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn count_lines(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    contract_id: Uuid,
) -> sqlx::Result<usize> {
    let count: i64 = sqlx::query_scalar(
        "select count(*) from contract_lines where organisation_id = $1 and contract_id = $2",
    )
    .bind(organisation_id)
    .bind(contract_id)
    .fetch_one(db)
    .await?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn delete_line(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("delete from contract_lines where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn lines_of_contracts(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    contract_ids: &[Uuid],
) -> sqlx::Result<Vec<LineRow>> {
    sqlx::query_as(
        "select * from contract_lines where organisation_id = $1 and contract_id = any($2)
         order by contract_id, position, id",
    )
    .bind(organisation_id)
    .bind(contract_ids)
    .fetch_all(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn lines_by_ids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<LineRow>> {
    sqlx::query_as("select * from contract_lines where organisation_id = $1 and id = any($2)")
        .bind(organisation_id)
        .bind(ids)
        .fetch_all(db)
        .await
}

/// Recomputes the contract's totals from its lines (in the caller's transaction).
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn refresh_totals(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<ContractRow> {
    sqlx::query_as(
        "update contracts c set
                total_excl_vat = coalesce(l.excl, 0), total_vat = coalesce(l.vat, 0),
                total_incl_vat = coalesce(l.incl, 0), updated_at = now()
         from (select sum(total_excl_vat) excl, sum(total_vat) vat, sum(total_incl_vat) incl
               from contract_lines where organisation_id = $1 and contract_id = $2) l
         where c.organisation_id = $1 and c.id = $2 returning c.*",
    )
    .bind(organisation_id)
    .bind(id)
    .fetch_one(db)
    .await
}

/// Filters of the contract list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct ContractFilter {
    pub status: Option<ContractStatus>,
    pub client_id: Option<Uuid>,
    pub sales_rep_id: Option<Uuid>,
    pub societe_id: Option<Uuid>,
    /// Part of the reference or title, any case.
    pub search: Option<String>,
}

fn push_filter(q: &mut QueryBuilder<'_, Postgres>, organisation_id: Uuid, f: &ContractFilter) {
    q.push(" where organisation_id = ")
        .push_bind(organisation_id);
    and_eq(q, "status", f.status);
    and_eq(q, "client_id", f.client_id);
    and_eq(q, "sales_rep_id", f.sales_rep_id);
    and_eq(q, "societe_id", f.societe_id);
    if let Some(search) = &f.search {
        let pattern = format!("%{}%", super::catalogue::escape_like(search));
        q.push(" and (reference ilike ")
            .push_bind(pattern.clone())
            .push(" or title ilike ")
            .push_bind(pattern)
            .push(")");
    }
}

/// A page of contracts, newest first, and how many match.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn list_contracts_page(
    db: &sqlx::PgPool,
    organisation_id: Uuid,
    filter: &ContractFilter,
    page: &PageRequest,
) -> sqlx::Result<(Vec<ContractRow>, i64)> {
    let filter = |q: &mut QueryBuilder<'_, Postgres>| push_filter(q, organisation_id, filter);
    newest_first(db, "contracts", "created_at", filter, page).await
}

/// Contracts whose end date is before `today` and still running, locked (skipping rows
/// another job instance holds), at most `limit`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_expired(
    db: impl PgExecutor<'_>,
    today: NaiveDate,
    limit: i64,
) -> sqlx::Result<Vec<ContractRow>> {
    sqlx::query_as(
        "select * from contracts
         where status in ('SIGNED', 'ACTIVE', 'SUSPENDED') and end_date < $1
         order by end_date, id limit $2 for update skip locked",
    )
    .bind(today)
    .bind(limit)
    .fetch_all(db)
    .await
}
