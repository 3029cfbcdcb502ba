//! Logistics' events, recorded in the transaction of the change (the payloads of
//! `crm_events::logistics`): `shipment.created` and `shipment.status_changed`.

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
