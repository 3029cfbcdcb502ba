//! Polling, the fallback of Maileva's notifications: each shipment with the carrier not
//! looked at for an interval is asked for its sending's status and its recipient's La Poste
//! delivery statuses, which are applied as tracking news (a status already known records
//! nothing new). A shipment whose account cannot be used is skipped, and looked at again next
//! time.

use std::{collections::HashMap, sync::Arc};

use chrono::Utc;
use sqlx::PgPool;
use subgraph_kit::vault::VaultKey;
use uuid::Uuid;

use crate::{
    carrier::{Credentials, PostalCarrier},
    db::shipment::ShipmentRow,
    domain::status::TrackingSource,
    ops::tracking::{apply, CarrierNews},
};

/// Shipments looked at per run.
const BATCH: i64 = 100;

/// Polls what the carrier says.
pub struct Poller<C> {
    pub pool: PgPool,
    pub carrier: Arc<C>,
    pub vault: VaultKey,
    /// Seconds between two looks at the same shipment.
    pub interval_seconds: u64,
}

impl<C: PostalCarrier> Poller<C> {
    /// Looks at the shipments due; returns how many pieces of news were new.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let due: Vec<ShipmentRow> = sqlx::query_as(
            "update shipments set last_polled_at = now()
             where id in (select id from shipments
                          where status in ('SUBMITTED', 'ACCEPTED', 'PROCESSED')
                            and carrier_sending_id is not null
                            and (last_polled_at is null
                                 or last_polled_at < now() - make_interval(secs => $1))
                          order by last_polled_at nulls first, id
                          limit $2 for update skip locked)
             returning *",
        )
        .bind(self.interval_seconds as f64)
        .bind(BATCH)
        .fetch_all(&self.pool)
        .await?;
        let mut accounts: HashMap<Uuid, Option<Credentials>> = HashMap::new();
        let mut news = 0;
        for shipment in due {
            let credentials = match accounts.get(&shipment.carrier_account_id) {
                Some(known) => known.clone(),
                None => {
                    let opened = self.credentials(&shipment).await;
                    accounts.insert(shipment.carrier_account_id, opened.clone());
                    opened
                }
            };
            let Some(credentials) = credentials else {
                continue;
            };
            match self.poll(&credentials, &shipment).await {
                Ok(n) => news += n,
                Err(err) => {
                    tracing::warn!(shipment = %shipment.id, error = %format!("{err:#}"), "cannot poll a shipment");
                }
            }
        }
        Ok(news)
    }

    async fn credentials(&self, s: &ShipmentRow) -> Option<Credentials> {
        match crate::ops::credentials::of_shipment(&self.pool, &self.vault, s).await {
            Ok((_, credentials)) => Some(credentials),
            Err(err) => {
                tracing::warn!(account = %s.carrier_account_id, error = %format!("{err:#}"), "a carrier account cannot be used");
                None
            }
        }
    }

    async fn poll(&self, account: &Credentials, s: &ShipmentRow) -> anyhow::Result<usize> {
        let Some(sending) = &s.carrier_sending_id else {
            return Ok(0);
        };
        let mut news = 0;
        let state = self.carrier.sending(account, s.kind, sending).await?;
        let code = state.status.as_str();
        if code != "DRAFT" && !self.known(s, code).await? {
            let raw = serde_json::json!({ "status": code, "status_detail": state.status_detail });
            news += self.apply(s, code, None, Utc::now(), raw).await?;
        }
        if let Some(recipient) = &s.carrier_recipient_id {
            let statuses = self
                .carrier
                .delivery_statuses(account, s.kind, sending, recipient)
                .await?;
            for status in statuses {
                let raw = serde_json::json!({
                    "code": status.code, "label": status.label, "date": status.date
                });
                news += self
                    .apply(s, &status.code, Some(&status.label), status.date, raw)
                    .await?;
            }
        }
        Ok(news)
    }

    /// Whether the shipment already has news of this sending status (from a notification
    /// `ON_STATUS_<code>` or an earlier poll).
    async fn known(&self, s: &ShipmentRow, code: &str) -> sqlx::Result<bool> {
        sqlx::query_scalar(
            "select exists (select 1 from tracking_events
                            where organisation_id = $1 and shipment_id = $2
                              and (code = $3 or code = 'ON_STATUS_' || $3))",
        )
        .bind(s.organisation_id)
        .bind(s.id)
        .bind(code)
        .fetch_one(&self.pool)
        .await
    }

    async fn apply(
        &self,
        s: &ShipmentRow,
        code: &str,
        label: Option<&str>,
        occurred_at: chrono::DateTime<Utc>,
        raw: serde_json::Value,
    ) -> anyhow::Result<usize> {
        let mut tx = self.pool.begin().await?;
        let news = CarrierNews {
            source: TrackingSource::Poll,
            code,
            label,
            occurred_at,
            location: None,
            raw,
        };
        let new = apply(&mut tx, s, &news)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        tx.commit().await?;
        Ok(usize::from(new))
    }
}
