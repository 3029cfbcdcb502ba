//! What the carrier says of a shipment: each tracking event is kept once (per code and
//! instant) with its raw code and normalised status; the shipment follows when its lifecycle
//! allows (never backwards), announcing the change with `shipment.status_changed`.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    db::{self, shipment::ShipmentRow},
    domain::status::{normalise, ShipmentStatus, TrackingSource},
    error::Result,
    events,
};

/// One thing the carrier said.
#[derive(Debug, Clone)]
pub struct CarrierNews<'a> {
    pub source: TrackingSource,
    pub code: &'a str,
    /// The carrier's own label, when it gave one.
    pub label: Option<&'a str>,
    pub occurred_at: DateTime<Utc>,
    pub location: Option<&'a str>,
    pub raw: serde_json::Value,
}

/// The shipment status a code leads to.
fn target(code: &str) -> Option<ShipmentStatus> {
    if matches!(code, "ON_STATUS_REJECTED" | "REJECTED") {
        return Some(ShipmentStatus::Rejected);
    }
    normalise(code).0.shipment_status()
}

/// Applies `news` to `shipment` in the caller's transaction; returns whether it was new.
pub async fn apply(
    tx: &mut PgConnection,
    shipment: &ShipmentRow,
    news: &CarrierNews<'_>,
) -> Result<bool> {
    let (status, default_label) = normalise(news.code);
    let recorded = sqlx::query(
        "insert into tracking_events (organisation_id, id, shipment_id, source, code, label, status,
                                      occurred_at, location, raw)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         on conflict (shipment_id, code, occurred_at) do nothing",
    )
    .bind(shipment.organisation_id)
    .bind(Uuid::now_v7())
    .bind(shipment.id)
    .bind(news.source)
    .bind(news.code)
    .bind(news.label.filter(|l| !l.is_empty()).unwrap_or(default_label))
    .bind(status)
    .bind(news.occurred_at)
    .bind(news.location)
    .bind(&news.raw)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if recorded == 0 {
        return Ok(false);
    }
    // The latest news sets the tracking status (an older one arriving late does not).
    sqlx::query(
        "update shipments set tracking_status = $3, updated_at = now()
         where organisation_id = $1 and id = $2
           and not exists (select 1 from tracking_events t
                           where t.shipment_id = $2 and t.occurred_at > $4)",
    )
    .bind(shipment.organisation_id)
    .bind(shipment.id)
    .bind(status)
    .bind(news.occurred_at)
    .execute(&mut *tx)
    .await?;
    if let Some(to) = target(news.code) {
        let reason = format!("{} ({})", default_label, news.code);
        if let Some((previous, row)) = db::shipment::transition(
            tx,
            shipment.organisation_id,
            shipment.id,
            to,
            Some(&reason),
            None,
        )
        .await?
        {
            events::record_status_changed(tx, &row, previous, Some(news.code), None).await?;
        }
    }
    Ok(true)
}
