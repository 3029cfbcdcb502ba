//! Logistics' events, recorded in the transaction of the change (the payloads of
//! `crm_events::logistics`): `shipment.created` and `shipment.status_changed`. And the
//! consumers of other subgraphs' events: `logistics-invoices` (issued invoices posted by their
//! setting) and `logistics-contracts` (welcome letters).

use crm_events::logistics::{ShipmentCreated, ShipmentStatusChanged, ShipmentSummary};
use sqlx::PgConnection;
use subgraph_kit::events::record_event;

use crate::{db::shipment::ShipmentRow, domain::status::ShipmentStatus, error::Result};

pub fn summary(s: &ShipmentRow) -> ShipmentSummary {
    ShipmentSummary {
        shipment_id: s.id,
        client_id: s.client_id,
        societe_id: s.societe_id,
        contract_id: s.contract_id,
        invoice_id: s.invoice_id,
        kind: s.kind.label().to_owned(),
        reason: s.reason.label().to_owned(),
        status: s.status.label().to_owned(),
        tracking_status: s.tracking_status.map(|t| t.label().to_owned()),
        tracking_number: s.tracking_number.clone(),
        recipient_name: s.recipient_lines.first().cloned().unwrap_or_default(),
        created_by: s.created_by,
        created_at: s.created_at,
    }
}

pub async fn record_created(
    tx: &mut PgConnection,
    correlation_id: Option<&str>,
    s: &ShipmentRow,
) -> Result<()> {
    let event = ShipmentCreated {
        shipment: summary(s),
        created_by: s.created_by,
    };
    record_event(tx, &event, s.organisation_id, correlation_id, None).await
}

pub async fn record_status_changed(
    tx: &mut PgConnection,
    s: &ShipmentRow,
    previous: ShipmentStatus,
    code: Option<&str>,
    error: Option<&str>,
) -> Result<()> {
    let event = ShipmentStatusChanged {
        shipment: summary(s),
        previous_status: previous.label().to_owned(),
        code: code.map(str::to_owned),
        error: error.map(str::to_owned),
    };
    record_event(tx, &event, s.organisation_id, None, None).await
}

crm_events::event_set! {
    /// Finance's events logistics hears.
    pub enum InvoiceEvent {
        InvoiceIssued(crm_events::finance::InvoiceIssued),
    }
}

/// `invoice.issued` → the invoice recorded, and posted when its setting says so; the worker
/// is woken once the shipment is committed.
pub struct InvoicesHandler {
    pub poster: crate::ops::invoice::InvoicePoster,
    pub wake: std::sync::Arc<tokio::sync::Notify>,
}

impl subgraph_kit::consumer::Handler for InvoicesHandler {
    type Events = InvoiceEvent;
    type Output = bool;

    async fn handle(
        &self,
        tx: &mut PgConnection,
        envelope: &subgraph_kit::events::Envelope,
        event: InvoiceEvent,
    ) -> std::result::Result<bool, subgraph_kit::consumer::HandlerError> {
        let InvoiceEvent::InvoiceIssued(issued) = event;
        Ok(self.poster.handle(tx, envelope, &issued).await?.is_some())
    }

    async fn committed(&self, queued: bool) {
        if queued {
            self.wake.notify_one();
        }
    }
}

crm_events::event_set! {
    /// Commercial's events logistics hears.
    pub enum ContractEvent {
        ContractSigned(crm_events::commercial::ContractSigned),
    }
}

/// `contract.signed` → its welcome letter, when the société has one; the worker is woken once
/// the shipment is committed.
pub struct ContractsHandler {
    pub pricing: crate::config::Pricing,
    pub wake: std::sync::Arc<tokio::sync::Notify>,
}

impl subgraph_kit::consumer::Handler for ContractsHandler {
    type Events = ContractEvent;
    type Output = bool;

    async fn handle(
        &self,
        tx: &mut PgConnection,
        envelope: &subgraph_kit::events::Envelope,
        event: ContractEvent,
    ) -> std::result::Result<bool, subgraph_kit::consumer::HandlerError> {
        let ContractEvent::ContractSigned(signed) = event;
        Ok(
            crate::ops::welcome::welcome(tx, envelope, &signed, &self.pricing)
                .await?
                .is_some(),
        )
    }

    async fn committed(&self, queued: bool) {
        if queued {
            self.wake.notify_one();
        }
    }
}
