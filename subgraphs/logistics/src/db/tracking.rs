//! What was said of shipments: the carrier's tracking events and the status history.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::status::{ShipmentStatus, TrackingSource, TrackingStatus};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TrackingEventRow {
    pub id: Uuid,
    pub shipment_id: Uuid,
    pub source: TrackingSource,
    pub code: String,
    pub label: String,
    pub status: TrackingStatus,
    pub occurred_at: DateTime<Utc>,
    pub location: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatusChangeRow {
    pub id: Uuid,
    pub shipment_id: Uuid,
    pub from_status: Option<ShipmentStatus>,
    pub to_status: ShipmentStatus,
    pub reason: Option<String>,
    pub changed_at: DateTime<Utc>,
}

/// The tracking events of many shipments, oldest first.
pub async fn events_of(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    shipment_ids: &[Uuid],
) -> sqlx::Result<Vec<TrackingEventRow>> {
    sqlx::query_as(
        "select id, shipment_id, source, code, label, status, occurred_at, location, recorded_at
         from tracking_events where organisation_id = $1 and shipment_id = any($2)
         order by occurred_at, recorded_at, id",
    )
    .bind(organisation_id)
    .bind(shipment_ids)
    .fetch_all(db)
    .await
}

/// The status history of many shipments, oldest first.
pub async fn changes_of(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    shipment_ids: &[Uuid],
) -> sqlx::Result<Vec<StatusChangeRow>> {
    sqlx::query_as(
        "select id, shipment_id, from_status, to_status, reason, changed_at
         from shipment_status_changes where organisation_id = $1 and shipment_id = any($2)
         order by changed_at, id",
    )
    .bind(organisation_id)
    .bind(shipment_ids)
    .fetch_all(db)
    .await
}
