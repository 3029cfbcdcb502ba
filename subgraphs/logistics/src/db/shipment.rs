//! Shipments: their rows, the submission queue (claimed under a lease, `skip locked`, so that
//! several instances never submit the same one), each carrier step's result stored as soon as
//! the carrier answered, and status changes with their history.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder};
use subgraph_kit::pagination::{and_eq, newest_first, PageRequest};
use uuid::Uuid;

use crate::domain::status::{ShipmentKind, ShipmentReason, ShipmentStatus, TrackingStatus};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShipmentRow {
    pub organisation_id: Uuid,
    pub id: Uuid,
    pub client_id: Uuid,
    pub societe_id: Uuid,
    pub carrier_account_id: Uuid,
    pub contract_id: Option<Uuid>,
    pub invoice_id: Option<Uuid>,
    pub kind: ShipmentKind,
    pub reason: ShipmentReason,
    pub status: ShipmentStatus,
    pub tracking_status: Option<TrackingStatus>,
    pub colour: bool,
    pub duplex: bool,
    pub acknowledgement_of_receipt: bool,
    pub recipient_lines: Vec<String>,
    pub recipient_country: String,
    pub sender_lines: Vec<String>,
    pub sender_country: String,
    pub document_id: Option<Uuid>,
    pub pages: Option<i32>,
    pub price_estimate: Option<Decimal>,
    pub postage_price: Option<Decimal>,
    pub tracking_number: Option<String>,
    pub carrier_sending_id: Option<String>,
    pub carrier_document_id: Option<String>,
    pub carrier_recipient_id: Option<String>,
    pub create_sent_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub deposit_proof_id: Option<Uuid>,
    pub acknowledgement_id: Option<Uuid>,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "organisation_id, id, client_id, societe_id, carrier_account_id, contract_id,
    invoice_id, kind, reason, status, tracking_status, colour, duplex, acknowledgement_of_receipt,
    recipient_lines, recipient_country, sender_lines, sender_country, document_id, pages,
    price_estimate, postage_price, tracking_number, carrier_sending_id, carrier_document_id,
    carrier_recipient_id, create_sent_at, submitted_at, delivered_at, deposit_proof_id,
    acknowledgement_id, attempts, next_attempt_at,
    last_error, created_by, created_at, updated_at";

/// Records a new shipment, `QUEUED`, with its first history row.
pub async fn insert(tx: &mut PgConnection, s: &ShipmentRow) -> sqlx::Result<()> {
    sqlx::query(
        "insert into shipments (organisation_id, id, client_id, societe_id, carrier_account_id,
             contract_id, invoice_id, kind, reason, status, colour, duplex,
             acknowledgement_of_receipt, recipient_lines, recipient_country, sender_lines,
             sender_country, document_id, pages, price_estimate, next_attempt_at, created_by,
             created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 $19, $20, $21, $22, $23, $23)",
    )
    .bind(s.organisation_id)
    .bind(s.id)
    .bind(s.client_id)
    .bind(s.societe_id)
    .bind(s.carrier_account_id)
    .bind(s.contract_id)
    .bind(s.invoice_id)
    .bind(s.kind)
    .bind(s.reason)
    .bind(s.status)
    .bind(s.colour)
    .bind(s.duplex)
    .bind(s.acknowledgement_of_receipt)
    .bind(&s.recipient_lines)
    .bind(&s.recipient_country)
    .bind(&s.sender_lines)
    .bind(&s.sender_country)
    .bind(s.document_id)
    .bind(s.pages)
    .bind(s.price_estimate)
    .bind(s.next_attempt_at)
    .bind(s.created_by)
    .bind(s.created_at)
    .execute(&mut *tx)
    .await?;
    history(tx, s.organisation_id, s.id, None, s.status, None).await
}

async fn history(
    tx: &mut PgConnection,
    organisation_id: Uuid,
    shipment_id: Uuid,
    from: Option<ShipmentStatus>,
    to: ShipmentStatus,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into shipment_status_changes (organisation_id, id, shipment_id, from_status, to_status, reason)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(organisation_id)
    .bind(Uuid::now_v7())
    .bind(shipment_id)
    .bind(from)
    .bind(to)
    .bind(reason)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn find(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ShipmentRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from shipments where organisation_id = $1 and id = $2"
    ))
    .bind(organisation_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Claims the next queued shipment that is due, for `lease` seconds (a crashed worker's claim
/// lapses and another resumes it).
pub async fn claim_next(
    db: impl PgExecutor<'_>,
    lease_seconds: i64,
) -> sqlx::Result<Option<ShipmentRow>> {
    sqlx::query_as(&format!(
        "update shipments set leased_until = now() + make_interval(secs => $1)
         where id = (select id from shipments
                     where status = 'QUEUED' and coalesce(next_attempt_at, created_at) <= now()
                       and (leased_until is null or leased_until < now())
                     order by coalesce(next_attempt_at, created_at), id
                     limit 1 for update skip locked)
         returning {COLUMNS}"
    ))
    .bind(lease_seconds as f64)
    .fetch_optional(db)
    .await
}

/// The carrier's step results, stored as soon as it answered.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// A creation is about to be sent: its answer may be lost.
    CreateSent,
    Sending(&'a str),
    Document(&'a str),
    Recipient(&'a str),
}

pub async fn record_step(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    step: Step<'_>,
) -> sqlx::Result<()> {
    let (set, value) = match step {
        Step::CreateSent => ("create_sent_at = now()", None),
        Step::Sending(v) => ("carrier_sending_id = $3", Some(v)),
        Step::Document(v) => ("carrier_document_id = $3", Some(v)),
        Step::Recipient(v) => ("carrier_recipient_id = $3", Some(v)),
    };
    let sql = format!(
        "update shipments set {set}, updated_at = now() where organisation_id = $1 and id = $2"
    );
    let query = sqlx::query(&sql).bind(organisation_id).bind(id);
    match value {
        Some(value) => query.bind(value).execute(db).await?,
        None => query.execute(db).await?,
    };
    Ok(())
}

/// A failed attempt: kept queued until `next_attempt_at`, the error recorded.
pub async fn record_failed_attempt(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    error: &str,
    next_attempt_at: DateTime<Utc>,
) -> sqlx::Result<i32> {
    sqlx::query_scalar(
        "update shipments set attempts = attempts + 1, last_error = $2, next_attempt_at = $3,
                leased_until = null, updated_at = now()
         where organisation_id = $4 and id = $1 returning attempts",
    )
    .bind(id)
    .bind(error)
    .bind(next_attempt_at)
    .bind(organisation_id)
    .fetch_one(db)
    .await
}

/// Moves a shipment to `to` (when its lifecycle allows: else `None`), with the history row;
/// the carrier's facts learnt on the way are kept.
pub async fn transition(
    tx: &mut PgConnection,
    organisation_id: Uuid,
    id: Uuid,
    to: ShipmentStatus,
    reason: Option<&str>,
    error: Option<&str>,
) -> sqlx::Result<Option<(ShipmentStatus, ShipmentRow)>> {
    let Some(current) = sqlx::query_as::<_, ShipmentRow>(&format!(
        "select {COLUMNS} from shipments where organisation_id = $1 and id = $2 for update"
    ))
    .bind(organisation_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    else {
        return Ok(None);
    };
    if !current.status.can_become(to) {
        return Ok(None);
    }
    let row: ShipmentRow = sqlx::query_as(&format!(
        "update shipments set status = $3, leased_until = null, updated_at = now(),
             attempts = case when $3 = 'QUEUED' then 0 else attempts end,
             next_attempt_at = case when $3 = 'QUEUED' then now() else next_attempt_at end,
             last_error = coalesce($4, case when $3 = 'QUEUED' then null else last_error end),
             submitted_at = case when $3 = 'SUBMITTED' then now() else submitted_at end,
             delivered_at = case when $3 = 'DELIVERED' then now() else delivered_at end
         where organisation_id = $1 and id = $2 returning {COLUMNS}"
    ))
    .bind(organisation_id)
    .bind(id)
    .bind(to)
    .bind(error)
    .fetch_one(&mut *tx)
    .await?;
    history(
        tx,
        organisation_id,
        id,
        Some(current.status),
        to,
        reason.or(error),
    )
    .await?;
    Ok(Some((current.status, row)))
}

/// What the carrier said of the recipient once submitted.
pub async fn record_recipient_facts(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    tracking_number: Option<&str>,
    postage_price: Option<Decimal>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update shipments set tracking_number = coalesce($2, tracking_number),
                postage_price = coalesce($3, postage_price), updated_at = now()
         where organisation_id = $4 and id = $1",
    )
    .bind(id)
    .bind(tracking_number)
    .bind(postage_price)
    .bind(organisation_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Shipments by id.
pub async fn by_ids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<ShipmentRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from shipments where organisation_id = $1 and id = any($2)"
    ))
    .bind(organisation_id)
    .bind(ids)
    .fetch_all(db)
    .await
}

/// What a list of shipments is narrowed by.
#[derive(Debug, Clone, Default)]
pub struct ShipmentFilter {
    pub status: Option<ShipmentStatus>,
    pub tracking_status: Option<TrackingStatus>,
    pub reason: Option<ShipmentReason>,
    pub client_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    pub invoice_id: Option<Uuid>,
    pub societe_id: Option<Uuid>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
}

/// A page of shipments, newest first, and how many match.
pub async fn list_page(
    db: &sqlx::PgPool,
    organisation_id: Uuid,
    f: &ShipmentFilter,
    page: &PageRequest,
) -> sqlx::Result<(Vec<ShipmentRow>, i64)> {
    let filter = |q: &mut QueryBuilder<'_, Postgres>| {
        q.push(" where organisation_id = ")
            .push_bind(organisation_id);
        and_eq(q, "status", f.status);
        and_eq(q, "tracking_status", f.tracking_status);
        and_eq(q, "reason", f.reason);
        and_eq(q, "client_id", f.client_id);
        and_eq(q, "contract_id", f.contract_id);
        and_eq(q, "invoice_id", f.invoice_id);
        and_eq(q, "societe_id", f.societe_id);
        if let Some(from) = f.created_from {
            q.push(" and created_at >= ").push_bind(from);
        }
        if let Some(before) = f.created_before {
            q.push(" and created_at < ").push_bind(before);
        }
    };
    newest_first(db, "shipments", "created_at", filter, page).await
}
