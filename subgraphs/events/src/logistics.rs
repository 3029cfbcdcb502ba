//! Logistics' events: postal shipments created and changing status.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::events;

events! {
    ShipmentCreated => "shipment.created", version 1;
    ShipmentStatusChanged => "shipment.status_changed", version 1;
}

/// A shipment as its events carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentSummary {
    pub shipment_id: Uuid,
    pub client_id: Uuid,
    pub societe_id: Uuid,
    pub contract_id: Option<Uuid>,
    pub invoice_id: Option<Uuid>,
    /// `SIMPLE_LETTER` or `REGISTERED_LETTER`.
    pub kind: String,
    /// Why it was sent: `MANUAL`, `INVOICE` (an invoice posted by the client's setting) or
    /// `WELCOME_LETTER`.
    pub reason: String,
    /// `QUEUED`, `SUBMITTED`, `ACCEPTED`, `PROCESSED`, `DELIVERED`, `RETURNED`, `REJECTED`,
    /// `FAILED` or `CANCELLED`.
    pub status: String,
    /// The last tracking status, normalised (`IN_TRANSIT`, `DELIVERED`…), if any yet.
    pub tracking_status: Option<String>,
    /// The registered letter's number, once the carrier assigned it.
    pub tracking_number: Option<String>,
    /// The recipient's first address line (a name).
    pub recipient_name: String,
    /// The member who asked for it; `None` when an event did (an invoice to post).
    #[serde(default)]
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// A postal shipment was asked for: it is queued for the carrier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentCreated {
    pub shipment: ShipmentSummary,
    /// The member who asked for it; `None` when an event did (an invoice to post).
    pub created_by: Option<Uuid>,
}

/// A shipment moved along its lifecycle (submitted, posted, delivered, returned, failed…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentStatusChanged {
    pub shipment: ShipmentSummary,
    pub previous_status: String,
    /// The carrier's raw code that caused it, when a tracking event did.
    pub code: Option<String>,
    /// Why a shipment failed or was rejected, as the carrier said it.
    pub error: Option<String>,
}
