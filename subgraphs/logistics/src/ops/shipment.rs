//! Queuing a shipment: the recipient's address frozen from the client's projection (or given)
//! and checked against the postal rules, the sender from the société's carrier account, the
//! document checked (a readable PDF within the limits), the price estimated — all before
//! anything is recorded; then the shipment, its history and `shipment.created` in one
//! transaction. The submission worker takes it from there.

use chrono::Utc;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use subgraph_kit::error::{Error, Invalid, Result};
use uuid::Uuid;

use crate::{
    config::Pricing,
    db::{self, account::AccountRow, directory::ClientRow, shipment::ShipmentRow},
    domain::{
        address::{check, AddressInput, PostalAddress},
        document::check_sheets,
        pricing::estimate,
        status::{ShipmentKind, ShipmentReason, ShipmentStatus},
    },
    events,
};

/// What to post, and how.
#[derive(Debug, Clone)]
pub struct Request {
    pub client_id: Uuid,
    pub contract_id: Option<Uuid>,
    pub invoice_id: Option<Uuid>,
    pub kind: ShipmentKind,
    pub reason: ShipmentReason,
    pub colour: bool,
    pub duplex: bool,
    pub acknowledgement_of_receipt: bool,
    /// Another address than the client's own.
    pub address: Option<AddressInput>,
    pub document_id: Uuid,
    pub pages: u32,
    pub created_by: Option<Uuid>,
}

/// The client's postal address as an input: its name on line 1, the complement on line 3 and
/// the street on line 4 (NF Z10-011), the locality on line 6.
///
/// # Errors
/// `VALIDATION` on `clientId` when core gave the client no address.
pub fn client_address(client: &ClientRow) -> Result<AddressInput> {
    let (Some(street), Some(postal_code), Some(city), Some(country)) = (
        &client.address_line1,
        &client.postal_code,
        &client.city,
        &client.country,
    ) else {
        return Err(Invalid::new("clientId", "the client has no postal address").into());
    };
    Ok(AddressInput {
        lines: [
            Some(client.name.clone()),
            None,
            client.address_line2.clone(),
            Some(street.clone()),
            None,
        ],
        postal_code: postal_code.clone(),
        city: city.clone(),
        country: country.clone(),
    })
}

fn problems(prefix: &str, found: Vec<Invalid>) -> Error {
    let problems: Vec<Invalid> = found
        .into_iter()
        .map(|p| Invalid::new(format!("{prefix}.{}", p.field), p.message))
        .collect();
    Error::Problems {
        summary: "the address breaks the postal rules".into(),
        problems,
    }
}

/// Checks `request` and queues the shipment in the caller's transaction.
///
/// # Errors
/// `VALIDATION` (every postal rule broken at once, the document's limits, options that do
/// not go together), or the database's error.
pub async fn queue(
    tx: &mut PgConnection,
    organisation_id: Uuid,
    client: &ClientRow,
    account: &AccountRow,
    tariff: &Pricing,
    request: Request,
    correlation_id: Option<&str>,
) -> Result<ShipmentRow> {
    if client.deleted {
        return Err(Invalid::new("clientId", "the client is in the bin").into());
    }
    if request.acknowledgement_of_receipt && request.kind != ShipmentKind::RegisteredLetter {
        return Err(Invalid::new(
            "acknowledgementOfReceipt",
            "only a registered letter has an acknowledgement of receipt",
        )
        .into());
    }
    let recipient = match &request.address {
        Some(given) => check(given, request.kind).map_err(|p| problems("address", p))?,
        None => check(&client_address(client)?, request.kind)
            .map_err(|p| problems("clientAddress", p))?,
    };
    let sender = PostalAddress::from_stored(&account.sender_lines(), &account.sender_country);
    let sheets = check_sheets(request.pages, request.duplex)?;
    let now = Utc::now();
    let row = ShipmentRow {
        organisation_id,
        id: Uuid::now_v7(),
        client_id: client.id,
        societe_id: account.societe_id,
        carrier_account_id: account.id,
        contract_id: request.contract_id,
        invoice_id: request.invoice_id,
        kind: request.kind,
        reason: request.reason,
        status: ShipmentStatus::Queued,
        tracking_status: None,
        colour: request.colour,
        duplex: request.duplex,
        acknowledgement_of_receipt: request.acknowledgement_of_receipt,
        recipient_lines: recipient.stored_lines(),
        recipient_country: recipient.country.clone(),
        sender_lines: sender.stored_lines(),
        sender_country: sender.country,
        document_id: Some(request.document_id),
        pages: i32::try_from(request.pages).ok(),
        price_estimate: Some(estimate(
            tariff,
            request.kind,
            request.acknowledgement_of_receipt,
            sheets,
            request.colour,
        )),
        postage_price: None::<Decimal>,
        tracking_number: None,
        carrier_sending_id: None,
        carrier_document_id: None,
        carrier_recipient_id: None,
        create_sent_at: None,
        submitted_at: None,
        delivered_at: None,
        deposit_proof_id: None,
        acknowledgement_id: None,
        attempts: 0,
        next_attempt_at: Some(now),
        last_error: None,
        created_by: request.created_by,
        created_at: now,
        updated_at: now,
    };
    db::shipment::insert(tx, &row).await?;
    events::record_created(tx, correlation_id, &row).await?;
    Ok(row)
}

/// Cancels a shipment not yet with the carrier (queued, or failed).
///
/// # Errors
/// `NOT_FOUND`, or `INVALID_TRANSITION` once the carrier has it.
pub async fn cancel(
    tx: &mut PgConnection,
    organisation_id: Uuid,
    id: Uuid,
    by: Uuid,
) -> Result<ShipmentRow> {
    change(
        tx,
        organisation_id,
        id,
        ShipmentStatus::Cancelled,
        &format!("cancelled by {by}"),
    )
    .await
}

/// Queues a failed shipment again (from the step it stopped at).
///
/// # Errors
/// `NOT_FOUND`, or `INVALID_TRANSITION` unless it failed.
pub async fn retry(
    tx: &mut PgConnection,
    organisation_id: Uuid,
    id: Uuid,
    by: Uuid,
) -> Result<ShipmentRow> {
    change(
        tx,
        organisation_id,
        id,
        ShipmentStatus::Queued,
        &format!("retried by {by}"),
    )
    .await
}

async fn change(
    tx: &mut PgConnection,
    organisation_id: Uuid,
    id: Uuid,
    to: ShipmentStatus,
    reason: &str,
) -> Result<ShipmentRow> {
    let Some((previous, row)) =
        db::shipment::transition(tx, organisation_id, id, to, Some(reason), None).await?
    else {
        // Refused: the shipment is not the organisation's, or its lifecycle forbids it.
        let current = db::shipment::find(&mut *tx, organisation_id, id)
            .await?
            .ok_or(Error::not_found("shipment"))?;
        return Err(Error::InvalidTransition(format!(
            "a {} shipment cannot become {}",
            current.status.label(),
            to.label()
        )));
    };
    events::record_status_changed(tx, &row, previous, None, None).await?;
    Ok(row)
}
