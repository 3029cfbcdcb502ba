//! Posting an issued invoice: when finance announces `invoice.issued`, the invoice is
//! recorded (what a letter may carry), and posted when the client's own setting says its
//! invoices go by post — else the société's default on its carrier account. The PDF is
//! fetched from finance and checked against the announced SHA-256 before a shipment carrying
//! it is queued; an invoice is posted once, however often the event arrives.

use std::sync::Arc;

use crm_events::finance::InvoiceIssued;
use sqlx::PgConnection;
use subgraph_kit::{consumer::HandlerError, events::Envelope, storage::LocalStore};
use uuid::Uuid;

use crate::{
    config::Pricing,
    db::{self, invoice::InvoiceRow, shipment::ShipmentRow},
    domain::status::{DocumentKind, ShipmentKind, ShipmentReason},
    finance::{FetchError, Finance},
    ops::{
        document::{keep, NewDocument},
        shipment::{queue, Request},
    },
};

/// What posting an invoice needs.
#[derive(Clone)]
pub struct InvoicePoster {
    pub finance: Finance,
    pub store: Arc<LocalStore>,
    pub pricing: Pricing,
}

fn refused(err: subgraph_kit::error::Error) -> HandlerError {
    HandlerError::permanent(format!("the invoice cannot be posted: {err:?}"))
}

impl InvoicePoster {
    /// Records the invoice and queues its letter when it goes by post; returns the shipment
    /// queued, if any.
    ///
    /// # Errors
    /// Not yet when the client is not projected yet; transient when finance is unreachable;
    /// permanent (a dead letter an operator replays once fixed) when the client's address
    /// breaks the postal rules, the société has no carrier account, or the PDF is not the
    /// one issued.
    pub async fn handle(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope,
        issued: &InvoiceIssued,
    ) -> Result<Option<ShipmentRow>, HandlerError> {
        let org = envelope.organisation_id;
        let i = &issued.invoice;
        let (Some(number), Some(sha256)) = (&i.number, &i.document_sha256) else {
            tracing::warn!(invoice = %i.invoice_id, "an issued invoice without number or document");
            return Ok(None);
        };
        let invoice = InvoiceRow {
            id: i.invoice_id,
            societe_id: i.societe_id,
            client_id: i.client_id,
            contract_id: i.contract_id,
            number: number.clone(),
            document_sha256: sha256.clone(),
            issued_on: i.issue_date,
        };
        db::invoice::record(&mut *tx, org, &invoice).await?;
        let own = db::preference::of_client(&mut *tx, org, i.client_id).await?;
        let account = db::account::active_for_societe(&mut *tx, org, i.societe_id).await?;
        let by_post = own.or(account.as_ref().map(|a| a.invoices_by_post));
        if by_post != Some(true) {
            return Ok(None);
        }
        let Some(account) = account else {
            return Err(HandlerError::permanent(format!(
                "invoice {number} goes by post but société {} has no active carrier account",
                i.societe_id
            )));
        };
        let Some(client) = db::directory::find_client(&mut *tx, org, i.client_id).await? else {
            return Err(HandlerError::not_yet(format!(
                "client {} is not in the directory yet",
                i.client_id
            )));
        };
        if already_posted(tx, org, i.invoice_id).await? {
            return Ok(None);
        }
        let pdf = self
            .finance
            .invoice_pdf(org, i.invoice_id, sha256)
            .await
            .map_err(|err| match err {
                FetchError::Unavailable(_) => HandlerError::transient(err),
                _ => HandlerError::permanent(err),
            })?;
        let file_name = format!("{number}.pdf");
        let document = keep(
            &mut *tx,
            &self.store,
            org,
            "invoice",
            NewDocument {
                id: Uuid::now_v7(),
                kind: DocumentKind::Invoice,
                file_name: &file_name,
                uploaded_by: None,
            },
            pdf,
        )
        .await
        .map_err(refused)?;
        let kind = account.invoice_letter_kind;
        let request = Request {
            client_id: client.id,
            contract_id: i.contract_id,
            invoice_id: Some(i.invoice_id),
            kind,
            reason: ShipmentReason::Invoice,
            colour: false,
            duplex: false,
            acknowledgement_of_receipt: kind == ShipmentKind::RegisteredLetter,
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
            &self.pricing,
            request,
            envelope.correlation_id.as_deref(),
        )
        .await
        .map_err(refused)?;
        tracing::info!(invoice = %i.invoice_id, shipment = %shipment.id, "an invoice is posted");
        Ok(Some(shipment))
    }
}

async fn already_posted(
    tx: &mut PgConnection,
    organisation_id: Uuid,
    invoice_id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists (select 1 from shipments
                        where organisation_id = $1 and invoice_id = $2 and reason = 'INVOICE')",
    )
    .bind(organisation_id)
    .bind(invoice_id)
    .fetch_one(tx)
    .await
}
