//! The welcome letter: when a société's carrier account names a welcome letter (an uploaded
//! document), each contract it signs (`contract.signed`) gets that letter, posted to the
//! client's address — once per contract, however often the event arrives.

use crm_events::commercial::ContractSigned;
use sqlx::PgConnection;
use subgraph_kit::{consumer::HandlerError, events::Envelope};

use crate::{
    config::Pricing,
    db::{self, shipment::ShipmentRow},
    domain::status::{ShipmentKind, ShipmentReason},
    ops::shipment::{queue, Request},
};

/// Queues the welcome letter of a signed contract when its société has one; returns it.
///
/// # Errors
/// Not yet when the client is not projected yet; permanent when its address breaks the
/// postal rules (a dead letter an operator replays once fixed).
pub async fn welcome(
    tx: &mut PgConnection,
    envelope: &Envelope,
    signed: &ContractSigned,
    pricing: &Pricing,
) -> Result<Option<ShipmentRow>, HandlerError> {
    let org = envelope.organisation_id;
    let c = &signed.contract;
    let Some(societe_id) = c.societe_id else {
        return Ok(None);
    };
    let Some(account) = db::account::active_for_societe(&mut *tx, org, societe_id).await? else {
        return Ok(None);
    };
    let Some(document_id) = account.welcome_letter_document_id else {
        return Ok(None);
    };
    let already: bool = sqlx::query_scalar(
        "select exists (select 1 from shipments where organisation_id = $1 and contract_id = $2
                        and reason = 'WELCOME_LETTER')",
    )
    .bind(org)
    .bind(c.contract_id)
    .fetch_one(&mut *tx)
    .await?;
    if already {
        return Ok(None);
    }
    let Some(client) = db::directory::find_client(&mut *tx, org, c.client_id).await? else {
        return Err(HandlerError::not_yet(format!(
            "client {} is not in the directory yet",
            c.client_id
        )));
    };
    let Some(document) = db::document::find(&mut *tx, org, document_id).await? else {
        return Err(HandlerError::permanent(
            "the welcome letter's document is gone",
        ));
    };
    let request = Request {
        client_id: client.id,
        contract_id: Some(c.contract_id),
        invoice_id: None,
        kind: ShipmentKind::SimpleLetter,
        reason: ShipmentReason::WelcomeLetter,
        colour: false,
        duplex: false,
        acknowledgement_of_receipt: false,
        address: None,
        document_id: document.id,
        pages: document
            .pages
            .and_then(|p| u32::try_from(p).ok())
            .unwrap_or(1),
        created_by: None,
    };
    let shipment = queue(
        tx,
        org,
        &client,
        &account,
        pricing,
        request,
        envelope.correlation_id.as_deref(),
    )
    .await
    .map_err(|e| HandlerError::permanent(format!("the welcome letter cannot be posted: {e:?}")))?;
    tracing::info!(contract = %c.contract_id, shipment = %shipment.id, "a welcome letter is posted");
    Ok(Some(shipment))
}
