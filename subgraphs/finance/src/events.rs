//! Finance's events.
//!
//! Published (recorded in the transaction of the change): `invoice.issued` (never for
//! drafts), `invoice.paid`, `credit_note.issued`.
//!
//! Consumed, each by a durable idempotent consumer:
//! - `finance-directory`: core's `client.*` and `societe.*`, kept as projections so that an
//!   invoice names a known client and starts from its identity;
//! - `finance-contracts`: commercial's `contract.signed`, which becomes a draft invoice with
//!   the contract's lines (one per signed contract, whatever the deliveries).

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use sqlx::PgConnection;
use subgraph_kit::{
    consumer::{ConsumerSpec, Handler, HandlerError},
    events::Envelope,
    money::VatRate,
};
use uuid::Uuid;

use crate::{
    db::{
        self,
        directory::ClientRow,
        invoice::{DraftFields, InvoiceRow, LineFields},
    },
    domain::invoice::{
        invoice_totals, vat_breakdown, InvoiceKind, LineAmounts, OperationNature, VatCategory,
    },
    error::Result,
};

/// Every event finance emits.
#[derive(Debug)]
pub enum FinanceEvent<'a> {
    /// An invoice or a credit note was issued: numbered, immutable.
    Issued { invoice: &'a InvoiceRow },
    /// An invoice is fully paid.
    Paid { invoice: &'a InvoiceRow },
}

fn summary(i: &InvoiceRow) -> serde_json::Value {
    json!({
        "invoice_id": i.id, "kind": i.kind, "number": i.number, "societe_id": i.societe_id,
        "client_id": i.client_id, "contract_id": i.contract_id,
        "original_invoice_id": i.original_invoice_id, "status": i.status,
        "issue_date": i.issue_date, "due_date": i.due_date, "currency": i.currency,
        "total_excl_vat": i.total_excl_vat, "total_vat": i.total_vat,
        "total_incl_vat": i.total_incl_vat, "amount_paid": i.amount_paid,
        "document_sha256": i.document_sha256,
    })
}

/// Records `event` in the caller's transaction, correlated with `correlation_id`.
pub async fn record(
    tx: &mut PgConnection,
    correlation_id: Option<&str>,
    causation: Option<Uuid>,
    event: FinanceEvent<'_>,
) -> Result<()> {
    let (event_type, invoice) = match event {
        FinanceEvent::Issued { invoice } if invoice.kind == InvoiceKind::CreditNote => {
            ("credit_note.issued", invoice)
        }
        FinanceEvent::Issued { invoice } => ("invoice.issued", invoice),
        FinanceEvent::Paid { invoice } => ("invoice.paid", invoice),
    };
    let mut envelope = Envelope::new(
        event_type,
        1,
        invoice.organisation_id,
        correlation_id,
        json!({"invoice": summary(invoice)}),
    )
    .map_err(|e| anyhow::anyhow!("cannot serialise an event: {e}"))?;
    envelope.causation_id = causation;
    subgraph_kit::events::record(tx, &envelope).await?;
    Ok(())
}

fn payload<T: serde::de::DeserializeOwned>(event: &Envelope) -> Result<T, HandlerError> {
    serde_json::from_value(event.payload.clone()).map_err(|e| {
        HandlerError::Permanent(anyhow::anyhow!(
            "unexpected {} v{} payload: {e}",
            event.event_type,
            event.version
        ))
    })
}

fn permanent(message: String) -> HandlerError {
    HandlerError::Permanent(anyhow::anyhow!(message))
}

pub fn directory_consumer() -> ConsumerSpec {
    ConsumerSpec::new(
        "finance-directory",
        &[
            "client.created",
            "client.updated",
            "societe.created",
            "societe.updated",
            "societe.deleted",
        ],
    )
}

pub struct DirectoryHandler;

#[derive(Deserialize)]
struct ClientPayload {
    client: ClientSnapshot,
}

#[derive(Deserialize)]
struct ClientSnapshot {
    client_id: Uuid,
    name: String,
    first_name: Option<String>,
    siren: Option<String>,
    vat_number: Option<String>,
    email: Option<String>,
    payment_terms_days: i32,
    deleted_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    billing_address: Option<BillingAddress>,
}

#[derive(Deserialize)]
struct BillingAddress {
    line1: String,
    line2: Option<String>,
    postal_code: String,
    city: String,
    country: String,
}

#[derive(Deserialize)]
struct SocietePayload {
    societe: SocieteSnapshot,
}

#[derive(Deserialize)]
struct SocieteSnapshot {
    societe_id: Uuid,
    name: String,
}

impl Handler for DirectoryHandler {
    type Output = ();

    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let org = event.organisation_id;
        match event.event_type.as_str() {
            "client.created" | "client.updated" => {
                let ClientPayload { client: c } = payload(event)?;
                let name = match &c.first_name {
                    Some(first) => format!("{first} {}", c.name),
                    None => c.name,
                };
                let row = ClientRow {
                    organisation_id: org,
                    id: c.client_id,
                    name,
                    siren: c.siren,
                    vat_number: c.vat_number,
                    email: c.email,
                    payment_terms_days: c.payment_terms_days,
                    deleted: c.deleted_at.is_some(),
                    billing_line1: c.billing_address.as_ref().map(|a| a.line1.clone()),
                    billing_line2: c.billing_address.as_ref().and_then(|a| a.line2.clone()),
                    billing_postal_code: c.billing_address.as_ref().map(|a| a.postal_code.clone()),
                    billing_city: c.billing_address.as_ref().map(|a| a.city.clone()),
                    billing_country: c.billing_address.as_ref().map(|a| a.country.clone()),
                };
                db::directory::upsert_client(&mut *tx, &row).await?;
            }
            "societe.created" | "societe.updated" => {
                let SocietePayload { societe } = payload(event)?;
                db::directory::upsert_societe(&mut *tx, org, societe.societe_id, &societe.name)
                    .await?;
            }
            "societe.deleted" => {
                let SocietePayload { societe } = payload(event)?;
                db::directory::delete_societe(&mut *tx, org, societe.societe_id).await?;
            }
            other => return Err(permanent(format!("unexpected event type {other}"))),
        }
        Ok(())
    }
}

pub fn contracts_consumer() -> ConsumerSpec {
    ConsumerSpec::new("finance-contracts", &["contract.signed"])
}

pub struct ContractsHandler;

#[derive(Deserialize)]
struct ContractSigned {
    contract: SignedContract,
    lines: Vec<SignedLine>,
}

#[derive(Deserialize)]
struct SignedContract {
    contract_id: Uuid,
    reference: String,
    client_id: Uuid,
    societe_id: Option<Uuid>,
    signature_date: Option<chrono::NaiveDate>,
}

#[derive(Deserialize)]
struct SignedLine {
    product_sku: Option<String>,
    product_name: Option<String>,
    description: Option<String>,
    quantity: Decimal,
    unit_price: Decimal,
    vat_rate: Decimal,
}

impl Handler for ContractsHandler {
    type Output = ();

    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let org = event.organisation_id;
        let signed: ContractSigned = payload(event)?;
        let c = &signed.contract;
        // Events can arrive before core's: a client or société not known yet is retried.
        let client = db::directory::find_client(&mut *tx, org, c.client_id)
            .await?
            .ok_or_else(|| {
                HandlerError::Transient(anyhow::anyhow!("client {} not known yet", c.client_id))
            })?;
        let societe_id = match c.societe_id {
            Some(id) => id,
            None => single_societe(tx, org).await?,
        };
        let fields = DraftFields {
            societe_id,
            client_id: client.id,
            contract_id: Some(c.contract_id),
            delivery_date: c.signature_date,
            payment_terms_days: client.payment_terms_days,
            late_payment_rate: Decimal::new(135, 1),
            nature: OperationNature::Services,
            buyer_name: client.name.clone(),
            buyer_siren: client.siren.clone(),
            buyer_vat_number: client.vat_number.clone(),
            buyer_address_line1: client.billing_line1.clone(),
            buyer_address_line2: client.billing_line2.clone(),
            buyer_postal_code: client.billing_postal_code.clone(),
            buyer_city: client.billing_city.clone(),
            buyer_country: client
                .billing_country
                .clone()
                .unwrap_or_else(|| "FR".into()),
            delivery_address: None,
            notes: Some(format!("Contrat {}", c.reference)),
        };
        let mut lines = Vec::with_capacity(signed.lines.len());
        for l in &signed.lines {
            let rate =
                VatRate::parse("vatRate", l.vat_rate).map_err(|e| permanent(e.to_string()))?;
            let category = if rate.percent().is_zero() {
                VatCategory::Zero
            } else {
                VatCategory::Standard
            };
            let totals = LineAmounts {
                quantity: l.quantity,
                unit_price: l.unit_price,
                discount: Decimal::ZERO,
                vat_rate: rate,
            }
            .totals();
            lines.push(LineFields {
                product_reference: l.product_sku.clone(),
                description: l
                    .description
                    .clone()
                    .or_else(|| l.product_name.clone())
                    .unwrap_or_else(|| "Prestation".to_owned()),
                quantity: l.quantity,
                unit_code: "C62".into(),
                unit_price: l.unit_price,
                discount: Decimal::ZERO,
                vat_category: category.code(),
                vat_rate: rate.percent(),
                totals,
            });
        }
        let nets: Vec<_> = lines
            .iter()
            .map(|l| {
                let category = VatCategory::parse(l.vat_category).unwrap_or(VatCategory::Standard);
                (category, l.vat_rate, l.totals.excl_vat)
            })
            .collect();
        let totals = invoice_totals(&vat_breakdown(&nets));
        // One draft per contract.signed event (source_event_id is unique).
        if let Some(draft) = db::invoice::insert_draft(
            &mut *tx,
            org,
            InvoiceKind::Invoice,
            None,
            Some(event.id),
            Uuid::nil(), // the system
            &fields,
        )
        .await?
        {
            db::invoice::replace_lines(tx, org, draft.id, &lines, totals).await?;
        }
        Ok(())
    }
}

/// The organisation's société when it has exactly one.
async fn single_societe(tx: &mut PgConnection, org: Uuid) -> Result<Uuid, HandlerError> {
    let ids: Vec<Uuid> =
        sqlx::query_scalar("select id from societes where organisation_id = $1 limit 2")
            .bind(org)
            .fetch_all(&mut *tx)
            .await?;
    match ids.as_slice() {
        [one] => Ok(*one),
        [] => Err(HandlerError::Transient(anyhow::anyhow!(
            "the organisation has no société yet"
        ))),
        _ => Err(permanent(
            "the contract names no société and the organisation has several".into(),
        )),
    }
}
