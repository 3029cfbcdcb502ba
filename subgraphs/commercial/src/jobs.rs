//! Scheduled work. The expiry job moves running contracts whose end date has passed to
//! EXPIRED, with history and a `contract.status_changed` event, in batches that several
//! instances can share (`for update skip locked`).

use std::time::Duration;

use chrono::{NaiveDate, Utc};
use sqlx::PgPool;
use tokio::sync::watch;

use crate::{
    db,
    domain::contract::ContractStatus,
    events::{self, CommercialEvent},
};

const BATCH: i64 = 100;

/// Expires every running contract whose end date is before `today`; returns how many.
pub async fn expire_contracts(pool: &PgPool, today: NaiveDate) -> anyhow::Result<usize> {
    let mut expired = 0;
    loop {
        let mut tx = pool.begin().await?;
        let due = db::contract::lock_expired(&mut *tx, today, BATCH).await?;
        for contract in &due {
            let org = contract.organisation_id;
            let to = contract
                .status
                .transition(ContractStatus::Expired)
                .map_err(anyhow::Error::msg)?;
            let row = db::contract::set_status(&mut *tx, org, contract.id, to, None).await?;
            let change = db::contract::insert_history(
                &mut *tx,
                org,
                contract.id,
                Some(contract.status),
                to,
                None,
                Some("end date passed"),
            )
            .await?;
            events::record(
                &mut tx,
                None,
                None,
                CommercialEvent::ContractStatusChanged {
                    contract: &row,
                    change: &change,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("cannot record an event: {e:?}"))?;
        }
        tx.commit().await?;
        expired += due.len();
        if (due.len() as i64) < BATCH {
            return Ok(expired);
        }
    }
}

/// Runs the expiry job every `interval` until `shutdown`.
pub async fn run_expiry(pool: PgPool, interval: Duration, mut shutdown: watch::Receiver<bool>) {
    if interval.is_zero() {
        return;
    }
    loop {
        match expire_contracts(&pool, Utc::now().date_naive()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "contracts expired"),
            Err(err) => tracing::warn!(error = %format!("{err:#}"), "the expiry job failed"),
        }
        tokio::select! {
            _ = shutdown.changed() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
