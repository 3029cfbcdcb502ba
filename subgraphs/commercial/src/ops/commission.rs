//! Commissions from payments: one per `payment.received`, from the most specific scale that
//! applies; clawbacks when a payment is finally rejected or a contract ends within the
//! scale's window. Called by the payments consumer and by the contract transitions.

use chrono::NaiveDate;
use crm_events::finance::{PaymentReceived, PaymentRejected};
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::PgConnection;
use subgraph_kit::{consumer::HandlerError, events::Envelope};
use uuid::Uuid;

use crate::{
    db::{
        self,
        commission::{ClawbackReason, CommissionRow, NewCommission},
        contract::ContractRow,
    },
    domain::{
        commission::{clawback, compute, select_scale, CommissionBase, Scale, Situation},
        money::round_cents,
    },
    events::{record, CommercialEvent},
};

/// Computes and records the commission `payment` earns, once per payment. A payment on a
/// contract without a sales rep earns none; one that no scale covers is refused permanently
/// (dead-lettered, to be replayed once a scale exists).
#[tracing::instrument(skip_all, fields(payment = %payment.payment_id))]
pub async fn commission_for_payment(
    tx: &mut PgConnection,
    event: &Envelope,
    payment: PaymentReceived,
) -> Result<(), HandlerError> {
    let org = event.organisation_id;
    if payment.amount <= Decimal::ZERO {
        return Err(HandlerError::permanent(format!(
            "payment {} has no amount",
            payment.payment_id
        )));
    }
    let contract = db::contract::find_contract(&mut *tx, org, payment.contract_id)
        .await?
        .ok_or_else(|| {
            HandlerError::permanent(format!(
                "no contract {} in the organisation",
                payment.contract_id
            ))
        })?;
    let Some(sales_rep_id) = contract.sales_rep_id else {
        tracing::info!(contract = %contract.id, "payment on a contract without a sales rep: no commission");
        return Ok(());
    };
    let situation = situation_of(tx, &contract, payment.received_on).await?;
    let candidates = db::scale::candidates(&mut *tx, org, payment.received_on).await?;
    let scales: Vec<_> = candidates.into_iter().map(|(_, s)| s).collect();
    let scale = select_scale(&scales, &situation).ok_or_else(|| {
        HandlerError::permanent(format!(
            "no commission scale applies to contract {} on {}",
            contract.reference, payment.received_on
        ))
    })?;
    let new = new_commission(
        &contract,
        sales_rep_id,
        scale,
        &situation,
        &payment,
        event.id,
    );
    // One commission per payment, whatever the events say (a second event for the same
    // payment, with another id, changes nothing).
    if let Some(commission) = db::commission::insert_commission(&mut *tx, org, &new).await? {
        record(
            tx,
            event.correlation_id.as_deref(),
            Some(event.id),
            CommercialEvent::CommissionCalculated {
                commission: &commission,
            },
        )
        .await?;
    }
    Ok(())
}

/// What decides which scale applies: the date, the contract's main product (its largest
/// line) category, its société and sales channel.
async fn situation_of(
    tx: &mut PgConnection,
    contract: &ContractRow,
    date: NaiveDate,
) -> sqlx::Result<Situation> {
    let org = contract.organisation_id;
    let lines = db::contract::lines_of_contracts(&mut *tx, org, &[contract.id]).await?;
    let main_product = lines
        .iter()
        .max_by_key(|l| (l.total_excl_vat, std::cmp::Reverse(l.position)))
        .map(|l| l.product_id);
    let product_category = match main_product {
        Some(id) => db::catalogue::find_product(&mut *tx, org, id)
            .await?
            .map(|p| p.category),
        None => None,
    };
    Ok(Situation {
        date,
        product_category,
        societe_id: contract.societe_id,
        sales_channel: contract.sales_channel.clone(),
    })
}

/// The commission row, with the details of how it was computed.
fn new_commission(
    contract: &ContractRow,
    sales_rep_id: Uuid,
    scale: &Scale,
    situation: &Situation,
    payment: &PaymentReceived,
    source_event_id: Uuid,
) -> NewCommission {
    // The base excludes VAT: given by finance, else derived from the contract's totals.
    let base_amount = match (payment.amount_excl_vat, scale.base) {
        (_, CommissionBase::Flat) => Decimal::ZERO,
        (Some(excl), _) => excl,
        (None, _) if contract.total_incl_vat > Decimal::ZERO => {
            round_cents(payment.amount * contract.total_excl_vat / contract.total_incl_vat)
        }
        (None, _) => payment.amount,
    };
    let computation = compute(scale, base_amount);
    NewCommission {
        sales_rep_id,
        contract_id: contract.id,
        payment_id: payment.payment_id,
        source_event_id,
        scale_id: scale.id,
        scale_version: scale.version,
        base_amount: computation.base_amount,
        gross_amount: computation.gross,
        bonus_amount: computation.bonus,
        net_amount: computation.net,
        currency: payment.currency.clone(),
        period: payment.received_on.format("%Y-%m").to_string(),
        details: json!({
            "scale": {"id": scale.id, "code": scale.code, "version": scale.version,
                      "calculation": scale.calculation, "base": scale.base,
                      "rate": scale.rate, "fixed_amount": scale.fixed_amount},
            "payment": {"amount": payment.amount, "amount_excl_vat": payment.amount_excl_vat,
                        "received_on": payment.received_on},
            "situation": {"product_category": situation.product_category,
                          "societe_id": situation.societe_id,
                          "sales_channel": situation.sales_channel},
            "computation": computation,
        }),
    }
}

/// Claws back the commission of a finally rejected payment (a rejection with a retry to come
/// leaves it standing).
#[tracing::instrument(skip_all, fields(payment = %rejection.payment_id))]
pub async fn clawback_for_rejection(
    tx: &mut PgConnection,
    event: &Envelope,
    rejection: PaymentRejected,
) -> Result<(), HandlerError> {
    if !rejection.is_final {
        return Ok(());
    }
    let org = event.organisation_id;
    let Some(commission) =
        db::commission::find_by_payment(&mut *tx, org, rejection.payment_id).await?
    else {
        return Ok(());
    };
    claw_back(
        tx,
        &commission,
        ClawbackReason::PaymentRejected,
        rejection.rejected_on,
    )
    .await?;
    Ok(())
}

/// Claws back `commission` for an event on `event_date` when its scale's window allows.
#[tracing::instrument(skip_all, fields(commission = %commission.id))]
pub async fn claw_back(
    tx: &mut PgConnection,
    commission: &CommissionRow,
    reason: ClawbackReason,
    event_date: NaiveDate,
) -> sqlx::Result<()> {
    if commission.status == crate::domain::commission::CommissionStatus::Cancelled {
        return Ok(());
    }
    let org = commission.organisation_id;
    let Some(scale) = db::scale::find_scale(&mut *tx, org, commission.scale_id).await? else {
        return Ok(());
    };
    let months = u32::try_from(scale.clawback_months).unwrap_or(0);
    if let Some(amount) = clawback(
        commission.net_amount,
        commission.calculated_at.date_naive(),
        event_date,
        months,
        scale.clawback_rate,
    ) {
        db::commission::insert_clawback(
            &mut *tx,
            org,
            commission.id,
            reason,
            scale.clawback_rate,
            amount,
            event_date,
        )
        .await?;
    }
    Ok(())
}
