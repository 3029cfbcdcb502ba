//! Contract status changes, the one way: check the lifecycle, change, write history, record
//! `contract.signed` / `contract.status_changed`, claw back commissions on termination — in
//! the caller's transaction. The resolvers and the expiry job both call it.

use chrono::{NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{
    db::{self, commission::ClawbackReason, contract::ContractRow},
    domain::contract::ContractStatus,
    error::{Error, Result},
    events::{self, CommercialEvent},
    ops,
};

/// A requested status change.
#[derive(Debug, Clone)]
pub struct Transition<'a> {
    pub to: ContractStatus,
    /// Required to suspend, terminate or cancel.
    pub reason: Option<String>,
    /// Set when signing.
    pub signature_date: Option<NaiveDate>,
    /// The user, or `None` for the system (a job).
    pub by: Option<Uuid>,
    /// The request that asked for it, for the events.
    pub correlation_id: Option<&'a str>,
}

/// Moves `contract` (locked by the caller) to `change.to`; returns the changed row.
#[tracing::instrument(skip_all, fields(contract = %contract.id, to = change.to.label()))]
pub async fn transition(
    tx: &mut PgConnection,
    contract: &ContractRow,
    change: Transition<'_>,
) -> Result<ContractRow> {
    let (org, id, to) = (contract.organisation_id, contract.id, change.to);
    contract
        .status
        .transition(to)
        .map_err(Error::InvalidTransition)?;
    let lines = db::contract::lines_of_contracts(&mut *tx, org, &[id]).await?;
    if to == ContractStatus::Signed && lines.is_empty() {
        return Err(Error::invalid(
            "lines",
            "a contract needs at least one line to be signed",
        ));
    }
    let row = db::contract::set_status(&mut *tx, org, id, to, change.signature_date).await?;
    let history = db::contract::insert_history(
        &mut *tx,
        org,
        id,
        Some(contract.status),
        to,
        change.by,
        change.reason.as_deref(),
    )
    .await?;
    if to == ContractStatus::Signed {
        let ids: Vec<Uuid> = lines.iter().map(|l| l.product_id).collect();
        let products = db::catalogue::products_by_ids(&mut *tx, org, &ids).await?;
        let signed = CommercialEvent::ContractSigned {
            contract: &row,
            lines: &lines,
            products: &products,
        };
        events::record(tx, change.correlation_id, None, signed).await?;
    }
    let changed = CommercialEvent::ContractStatusChanged {
        contract: &row,
        change: &history,
    };
    events::record(tx, change.correlation_id, None, changed).await?;
    if to == ContractStatus::Terminated {
        let today = Utc::now().date_naive();
        for commission in db::commission::lock_of_contract(&mut *tx, org, id).await? {
            ops::commission::claw_back(tx, &commission, ClawbackReason::Termination, today).await?;
        }
    }
    Ok(row)
}

/// Contracts expired per transaction.
const EXPIRY_BATCH: i64 = 100;

/// Expires every running contract whose end date is before `today`, in batches that several
/// instances can share (`for update skip locked`); returns how many.
#[tracing::instrument(skip(pool))]
pub async fn expire_contracts(pool: &PgPool, today: NaiveDate) -> anyhow::Result<usize> {
    let mut expired = 0;
    loop {
        let mut tx = pool.begin().await?;
        let due = db::contract::lock_expired(&mut *tx, today, EXPIRY_BATCH).await?;
        for contract in &due {
            let change = Transition {
                to: ContractStatus::Expired,
                reason: Some("end date passed".into()),
                signature_date: None,
                by: None,
                correlation_id: None,
            };
            transition(&mut tx, contract, change)
                .await
                .map_err(|e| anyhow::anyhow!("cannot expire contract {}: {e:?}", contract.id))?;
        }
        tx.commit().await?;
        expired += due.len();
        if (due.len() as i64) < EXPIRY_BATCH {
            return Ok(expired);
        }
    }
}
