//! Invoices, their lines, the numbering counters and the payments.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder};
use subgraph_kit::pagination::{and_eq, newest_first, PageRequest};
use uuid::Uuid;

use crate::domain::invoice::{
    invoice_totals, vat_breakdown, BuyerKind, InvoiceKind, InvoiceStatus, OperationNature,
    VatCategory,
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvoiceRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub societe_id: Uuid,
    pub kind: InvoiceKind,
    pub original_invoice_id: Option<Uuid>,
    pub client_id: Uuid,
    pub contract_id: Option<Uuid>,
    pub source_event_id: Option<Uuid>,
    pub status: InvoiceStatus,
    pub number: Option<String>,
    pub series: Option<String>,
    pub fiscal_year: Option<i32>,
    pub sequence: Option<i64>,
    pub issue_date: Option<NaiveDate>,
    pub delivery_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub payment_terms_days: i32,
    pub late_payment_rate: Decimal,
    pub recovery_indemnity: Decimal,
    pub nature: OperationNature,
    pub currency: String,
    pub buyer_kind: BuyerKind,
    pub buyer_email: Option<String>,
    pub buyer_name: String,
    pub buyer_siren: Option<String>,
    pub buyer_vat_number: Option<String>,
    pub buyer_address_line1: Option<String>,
    pub buyer_address_line2: Option<String>,
    pub buyer_postal_code: Option<String>,
    pub buyer_city: Option<String>,
    pub buyer_country: String,
    pub delivery_address: Option<String>,
    pub notes: Option<String>,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
    pub amount_paid: Decimal,
    pub facturx_xml: Option<String>,
    pub document_sha256: Option<String>,
    pub chain_sha256: Option<String>,
    pub issued_by: Option<Uuid>,
    pub issued_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The PDF/A-3 in the document store.
    pub pdf_key: Option<String>,
}

/// A draft's editable fields, valid.
#[derive(Debug, Clone)]
pub struct DraftFields {
    pub societe_id: Uuid,
    pub client_id: Uuid,
    pub contract_id: Option<Uuid>,
    pub delivery_date: Option<NaiveDate>,
    pub payment_terms_days: i32,
    pub late_payment_rate: Decimal,
    pub nature: OperationNature,
    /// The client's kind, frozen with the rest of the buyer.
    pub buyer_kind: BuyerKind,
    /// The buyer's electronic address when it has no SIREN (BT-49, scheme EM).
    pub buyer_email: Option<String>,
    pub buyer_name: String,
    pub buyer_siren: Option<String>,
    pub buyer_vat_number: Option<String>,
    pub buyer_address_line1: Option<String>,
    pub buyer_address_line2: Option<String>,
    pub buyer_postal_code: Option<String>,
    pub buyer_city: Option<String>,
    pub buyer_country: String,
    pub delivery_address: Option<String>,
    pub notes: Option<String>,
}

type InvoiceQuery<'q> = sqlx::query::QueryAs<'q, Postgres, InvoiceRow, sqlx::postgres::PgArguments>;

/// Binds the draft fields as `$3…$21`, in the column order both statements use.
fn bind_fields<'q>(query: InvoiceQuery<'q>, f: &'q DraftFields) -> InvoiceQuery<'q> {
    query
        .bind(f.societe_id)
        .bind(f.client_id)
        .bind(f.contract_id)
        .bind(f.delivery_date)
        .bind(f.payment_terms_days)
        .bind(f.late_payment_rate)
        .bind(f.nature)
        .bind(&f.buyer_name)
        .bind(&f.buyer_siren)
        .bind(&f.buyer_vat_number)
        .bind(&f.buyer_address_line1)
        .bind(&f.buyer_address_line2)
        .bind(&f.buyer_postal_code)
        .bind(&f.buyer_city)
        .bind(&f.buyer_country)
        .bind(&f.delivery_address)
        .bind(&f.notes)
        .bind(f.buyer_kind)
        .bind(&f.buyer_email)
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_draft(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    kind: InvoiceKind,
    original_invoice_id: Option<Uuid>,
    source_event_id: Option<Uuid>,
    created_by: Uuid,
    f: &DraftFields,
) -> sqlx::Result<Option<InvoiceRow>> {
    let query = sqlx::query_as(
        "insert into invoices (id, organisation_id, societe_id, client_id, contract_id, delivery_date,
                payment_terms_days, late_payment_rate, nature, buyer_name, buyer_siren,
                buyer_vat_number, buyer_address_line1, buyer_address_line2, buyer_postal_code,
                buyer_city, buyer_country, delivery_address, notes, buyer_kind, buyer_email, kind,
                original_invoice_id, source_event_id, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                 $20, $21, $22, $23, $24, $25)
         on conflict (source_event_id) do nothing
         returning *",
    )
    .bind(Uuid::now_v7())
    .bind(organisation_id);
    bind_fields(query, f)
        .bind(kind)
        .bind(original_invoice_id)
        .bind(source_event_id)
        .bind(created_by)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn update_draft(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    f: &DraftFields,
) -> sqlx::Result<InvoiceRow> {
    let query = sqlx::query_as(
        "update invoices set societe_id = $3, client_id = $4, contract_id = $5, delivery_date = $6,
                payment_terms_days = $7, late_payment_rate = $8, nature = $9, buyer_name = $10,
                buyer_siren = $11, buyer_vat_number = $12, buyer_address_line1 = $13,
                buyer_address_line2 = $14, buyer_postal_code = $15, buyer_city = $16,
                buyer_country = $17, delivery_address = $18, notes = $19, buyer_kind = $20,
                buyer_email = $21, updated_at = now()
         where organisation_id = $1 and id = $2 and status = 'DRAFT' returning *",
    )
    .bind(organisation_id)
    .bind(id);
    bind_fields(query, f).fetch_one(db).await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_invoice(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<InvoiceRow>> {
    sqlx::query_as("select * from invoices where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn lock_invoice(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<InvoiceRow>> {
    sqlx::query_as("select * from invoices where organisation_id = $1 and id = $2 for update")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn invoices_by_ids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<InvoiceRow>> {
    sqlx::query_as("select * from invoices where organisation_id = $1 and id = any($2)")
        .bind(organisation_id)
        .bind(ids)
        .fetch_all(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn delete_draft(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("delete from invoices where organisation_id = $1 and id = $2 and status = 'DRAFT'")
        .bind(organisation_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LineRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub invoice_id: Uuid,
    pub position: i32,
    pub product_reference: Option<String>,
    pub description: String,
    pub quantity: Decimal,
    pub unit_code: String,
    pub unit_price: Decimal,
    pub discount: Decimal,
    pub vat_category: String,
    pub vat_rate: Decimal,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
}

/// A line, valid, with its totals.
#[derive(Debug, Clone)]
pub struct LineFields {
    pub product_reference: Option<String>,
    pub description: String,
    pub quantity: Decimal,
    pub unit_code: String,
    pub unit_price: Decimal,
    pub discount: Decimal,
    pub vat_category: &'static str,
    pub vat_rate: Decimal,
    pub totals: subgraph_kit::money::Totals,
}

/// The totals of lines: per VAT category and rate (tax per group, BR-CO-17), then summed.
pub fn totals_of(lines: &[LineFields]) -> subgraph_kit::money::Totals {
    let nets: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                VatCategory::parse(l.vat_category).unwrap_or(VatCategory::Standard),
                l.vat_rate,
                l.totals.excl_vat,
            )
        })
        .collect();
    invoice_totals(&vat_breakdown(&nets))
}

/// Each stored line's VAT category, rate and amount excl. VAT, for the VAT breakdown.
pub fn nets(lines: &[LineRow]) -> Vec<(VatCategory, Decimal, Decimal)> {
    lines
        .iter()
        .map(|l| {
            (
                VatCategory::parse(&l.vat_category).unwrap_or(VatCategory::Standard),
                l.vat_rate,
                l.total_excl_vat,
            )
        })
        .collect()
}

/// Replaces the lines of an invoice and sets its totals (in the caller's transaction).
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn replace_lines(
    db: &mut PgConnection,
    organisation_id: Uuid,
    invoice_id: Uuid,
    lines: &[LineFields],
    totals: subgraph_kit::money::Totals,
) -> sqlx::Result<InvoiceRow> {
    sqlx::query("delete from invoice_lines where organisation_id = $1 and invoice_id = $2")
        .bind(organisation_id)
        .bind(invoice_id)
        .execute(&mut *db)
        .await?;
    for (i, l) in lines.iter().enumerate() {
        sqlx::query(
            "insert into invoice_lines (id, organisation_id, invoice_id, position, product_reference,
                    description, quantity, unit_code, unit_price, discount, vat_category, vat_rate,
                    total_excl_vat, total_vat, total_incl_vat)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(Uuid::now_v7())
        .bind(organisation_id)
        .bind(invoice_id)
        .bind(i32::try_from(i + 1).unwrap_or(i32::MAX))
        .bind(&l.product_reference)
        .bind(&l.description)
        .bind(l.quantity)
        .bind(&l.unit_code)
        .bind(l.unit_price)
        .bind(l.discount)
        .bind(l.vat_category)
        .bind(l.vat_rate)
        .bind(l.totals.excl_vat)
        .bind(l.totals.vat)
        .bind(l.totals.incl_vat)
        .execute(&mut *db)
        .await?;
    }
    sqlx::query_as(
        "update invoices set total_excl_vat = $3, total_vat = $4, total_incl_vat = $5, updated_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(invoice_id)
    .bind(totals.excl_vat)
    .bind(totals.vat)
    .bind(totals.incl_vat)
    .fetch_one(&mut *db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn lines_of(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    invoice_ids: &[Uuid],
) -> sqlx::Result<Vec<LineRow>> {
    sqlx::query_as(
        "select * from invoice_lines where organisation_id = $1 and invoice_id = any($2)
         order by invoice_id, position",
    )
    .bind(organisation_id)
    .bind(invoice_ids)
    .fetch_all(db)
    .await
}

/// Takes the next number of a series: the counter row is created or incremented and stays
/// locked until the transaction ends, so concurrent issuers queue and no number is skipped
/// or given twice. Returns the sequence and the chain hash of the series' last document.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn next_sequence(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    societe_id: Uuid,
    series: &str,
    year: i32,
) -> sqlx::Result<(i64, Option<String>)> {
    sqlx::query_as(
        "insert into invoice_counters (organisation_id, societe_id, series, fiscal_year, last_value)
         values ($1, $2, $3, $4, 1)
         on conflict (organisation_id, societe_id, series, fiscal_year)
         do update set last_value = invoice_counters.last_value + 1
         returning last_value, last_chain",
    )
    .bind(organisation_id)
    .bind(societe_id)
    .bind(series)
    .bind(year)
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn set_chain(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    societe_id: Uuid,
    series: &str,
    year: i32,
    chain: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update invoice_counters set last_chain = $5
         where organisation_id = $1 and societe_id = $2 and series = $3 and fiscal_year = $4",
    )
    .bind(organisation_id)
    .bind(societe_id)
    .bind(series)
    .bind(year)
    .bind(chain)
    .execute(db)
    .await?;
    Ok(())
}

/// What issuing writes.
#[derive(Debug, Clone)]
pub struct Issue<'a> {
    pub number: &'a str,
    pub series: &'a str,
    pub year: i32,
    pub sequence: i64,
    pub issue_date: NaiveDate,
    pub delivery_date: NaiveDate,
    pub due_date: NaiveDate,
    pub status: InvoiceStatus,
    pub xml: &'a str,
    pub document_sha256: &'a str,
    pub chain_sha256: &'a str,
    pub pdf_key: &'a str,
    pub by: Uuid,
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn mark_issued(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    i: &Issue<'_>,
) -> sqlx::Result<InvoiceRow> {
    sqlx::query_as(
        "update invoices set status = $3, number = $4, series = $5, fiscal_year = $6, sequence = $7,
                issue_date = $8, delivery_date = $9, due_date = $10, facturx_xml = $11,
                document_sha256 = $12, chain_sha256 = $13, issued_by = $14, issued_at = now(),
                pdf_key = $15, updated_at = now()
         where organisation_id = $1 and id = $2 and status = 'DRAFT' returning *",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(i.status)
    .bind(i.number)
    .bind(i.series)
    .bind(i.year)
    .bind(i.sequence)
    .bind(i.issue_date)
    .bind(i.delivery_date)
    .bind(i.due_date)
    .bind(i.xml)
    .bind(i.document_sha256)
    .bind(i.chain_sha256)
    .bind(i.by)
    .bind(i.pdf_key)
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn set_status(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    status: InvoiceStatus,
    amount_paid: Decimal,
) -> sqlx::Result<InvoiceRow> {
    sqlx::query_as(
        "update invoices set status = $3, amount_paid = $4, updated_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(status)
    .bind(amount_paid)
    .fetch_one(db)
    .await
}

/// The incl. VAT total already credited on an invoice by issued credit notes.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn credited(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    invoice_id: Uuid,
) -> sqlx::Result<Decimal> {
    sqlx::query_scalar(
        "select coalesce(sum(total_incl_vat), 0) from invoices
         where organisation_id = $1 and original_invoice_id = $2 and status <> 'DRAFT'",
    )
    .bind(organisation_id)
    .bind(invoice_id)
    .fetch_one(db)
    .await
}

/// Filters of the invoice list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    pub status: Option<InvoiceStatus>,
    pub kind: Option<InvoiceKind>,
    pub client_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub societe_id: Option<Uuid>,
    /// Open and past due on this day.
    pub overdue_on: Option<NaiveDate>,
}

fn push_filter(q: &mut QueryBuilder<'_, Postgres>, organisation_id: Uuid, f: &InvoiceFilter) {
    q.push(" where organisation_id = ")
        .push_bind(organisation_id);
    and_eq(q, "status", f.status);
    and_eq(q, "kind", f.kind);
    and_eq(q, "client_id", f.client_id);
    and_eq(q, "contract_id", f.contract_id);
    and_eq(q, "societe_id", f.societe_id);
    if let Some(day) = f.overdue_on {
        q.push(" and status in ('ISSUED', 'PARTIALLY_PAID') and kind = 'INVOICE' and due_date < ")
            .push_bind(day);
    }
}

/// A page of invoices, newest first, and how many match.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn list_invoices_page(
    db: &sqlx::PgPool,
    organisation_id: Uuid,
    filter: &InvoiceFilter,
    page: &PageRequest,
) -> sqlx::Result<(Vec<InvoiceRow>, i64)> {
    let filter = |q: &mut QueryBuilder<'_, Postgres>| push_filter(q, organisation_id, filter);
    newest_first(db, "invoices", "created_at", filter, page).await
}

/// Issued documents of a société in a period, in issue order (FEC).
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn issued_between(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    societe_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<InvoiceRow>> {
    sqlx::query_as(
        "select * from invoices where organisation_id = $1 and societe_id = $2
           and status <> 'DRAFT' and issue_date between $3 and $4
         order by issued_at, series, sequence",
    )
    .bind(organisation_id)
    .bind(societe_id)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await
}
