//! Commercial's events.
//!
//! Published (recorded in the transaction of the change, relayed by the kit):
//! `contract.signed`, `contract.status_changed`, `commission.calculated`.
//!
//! Consumed, each by a durable idempotent consumer:
//! - `commercial-directory`: core's `organisation.created`, `member.joined`, `member.removed`,
//!   `client.created`, `client.updated`, `societe.*`, kept as projections so that contract
//!   and sales-rep inputs naming a client, a société or a user are checked;
//! - `commercial-payments`: `payment.received` (a commission per payment) and
//!   `payment.rejected` (a clawback when the rejection is final).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use sqlx::PgConnection;
use subgraph_kit::{
    consumer::{ConsumerSpec, Handler, HandlerError},
    events::Envelope,
};
use uuid::Uuid;

use crate::{
    db::{
        self,
        commission::{ClawbackReason, CommissionRow, NewCommission},
        contract::{ContractRow, HistoryRow, LineRow},
    },
    domain::{
        commission::{clawback, compute, select_scale, CommissionBase, Situation},
        money::round_cents,
    },
    error::Result,
};

/// Every event commercial emits.
#[derive(Debug)]
pub enum CommercialEvent<'a> {
    /// A contract was signed: what finance needs to bill it.
    ContractSigned {
        contract: &'a ContractRow,
        lines: &'a [LineRow],
        /// The lines' products (for their SKU and name).
        products: &'a [crate::db::catalogue::ProductRow],
    },
    /// A contract changed status (signing included).
    ContractStatusChanged {
        contract: &'a ContractRow,
        change: &'a HistoryRow,
    },
    CommissionCalculated {
        commission: &'a CommissionRow,
    },
}

fn contract_summary(c: &ContractRow) -> serde_json::Value {
    json!({
        "contract_id": c.id, "reference": c.reference, "client_id": c.client_id,
        "societe_id": c.societe_id, "sales_rep_id": c.sales_rep_id, "status": c.status,
        "start_date": c.start_date, "end_date": c.end_date, "signature_date": c.signature_date,
        "billing_frequency": c.billing_frequency, "currency": c.currency,
        "total_excl_vat": c.total_excl_vat, "total_vat": c.total_vat,
        "total_incl_vat": c.total_incl_vat,
    })
}

impl CommercialEvent<'_> {
    fn envelope(&self, correlation_id: Option<&str>) -> serde_json::Result<Envelope> {
        match self {
            CommercialEvent::ContractSigned {
                contract,
                lines,
                products,
            } => {
                let lines: Vec<_> = lines
                    .iter()
                    .map(|l| {
                        let product = products.iter().find(|p| p.id == l.product_id);
                        json!({
                            "line_id": l.id, "product_id": l.product_id,
                            "product_sku": product.map(|p| &p.sku),
                            "product_name": product.map(|p| &p.name),
                            "description": l.description, "quantity": l.quantity,
                            "unit_price": l.unit_price, "vat_rate": l.vat_rate,
                            "billing_period": l.billing_period,
                            "total_excl_vat": l.total_excl_vat, "total_vat": l.total_vat,
                            "total_incl_vat": l.total_incl_vat,
                        })
                    })
                    .collect();
                Envelope::new(
                    "contract.signed",
                    1,
                    contract.organisation_id,
                    correlation_id,
                    json!({"contract": contract_summary(contract), "lines": lines}),
                )
            }
            CommercialEvent::ContractStatusChanged { contract, change } => Envelope::new(
                "contract.status_changed",
                1,
                contract.organisation_id,
                correlation_id,
                json!({
                    "contract": contract_summary(contract),
                    "previous": change.from_status, "new": change.to_status,
                    "reason": change.reason, "triggered_by": change.changed_by,
                    "changed_at": change.changed_at,
                }),
            ),
            CommercialEvent::CommissionCalculated { commission: c } => Envelope::new(
                "commission.calculated",
                1,
                c.organisation_id,
                correlation_id,
                json!({
                    "commission_id": c.id, "reference": c.reference,
                    "sales_rep_id": c.sales_rep_id, "contract_id": c.contract_id,
                    "payment_id": c.payment_id, "scale_id": c.scale_id,
                    "scale_version": c.scale_version, "base_amount": c.base_amount,
                    "gross_amount": c.gross_amount, "bonus_amount": c.bonus_amount,
                    "net_amount": c.net_amount, "currency": c.currency, "period": c.period,
                }),
            ),
        }
    }
}

/// Records `event` in the caller's transaction, correlated with `correlation_id`; `causation`
/// names the event that caused it, for those emitted by consumers.
pub async fn record(
    tx: &mut PgConnection,
    correlation_id: Option<&str>,
    causation: Option<Uuid>,
    event: CommercialEvent<'_>,
) -> Result<()> {
    let mut envelope = event
        .envelope(correlation_id)
        .map_err(|e| anyhow::anyhow!("cannot serialise an event: {e}"))?;
    envelope.causation_id = causation;
    subgraph_kit::events::record(tx, &envelope).await?;
    Ok(())
}

fn payload<T: serde::de::DeserializeOwned>(event: &Envelope) -> Result<T, HandlerError> {
    serde_json::from_value(event.payload.clone()).map_err(|e| {
        HandlerError::Permanent(anyhow::anyhow!(
            "unexpected {} v{} payload: {e}",
            event.event_type,
            event.version
        ))
    })
}

/// The consumer keeping the projections of core's data.
pub fn directory_consumer() -> ConsumerSpec {
    ConsumerSpec::new(
        "commercial-directory",
        &[
            "organisation.created",
            "member.joined",
            "member.removed",
            "client.created",
            "client.updated",
            "societe.created",
            "societe.updated",
            "societe.deleted",
        ],
    )
}

pub struct DirectoryHandler;

#[derive(Deserialize)]
struct ClientPayload {
    client: ClientSnapshot,
}

#[derive(Deserialize)]
struct ClientSnapshot {
    client_id: Uuid,
    name: String,
    first_name: Option<String>,
    deleted_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Deserialize)]
struct SocietePayload {
    societe: SocieteSnapshot,
}

#[derive(Deserialize)]
struct SocieteSnapshot {
    societe_id: Uuid,
    name: String,
}

#[derive(Deserialize)]
struct MemberPayload {
    #[serde(alias = "owner_id")]
    user_id: Uuid,
}

impl Handler for DirectoryHandler {
    type Output = ();

    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let org = event.organisation_id;
        match event.event_type.as_str() {
            "organisation.created" | "member.joined" => {
                let member: MemberPayload = payload(event)?;
                db::directory::upsert_member(&mut *tx, org, member.user_id).await?;
            }
            "member.removed" => {
                let member: MemberPayload = payload(event)?;
                db::directory::delete_member(&mut *tx, org, member.user_id).await?;
            }
            "client.created" | "client.updated" => {
                let ClientPayload { client } = payload(event)?;
                let name = match &client.first_name {
                    Some(first) => format!("{first} {}", client.name),
                    None => client.name.clone(),
                };
                db::directory::upsert_client(
                    &mut *tx,
                    org,
                    client.client_id,
                    &name,
                    client.deleted_at.is_some(),
                )
                .await?;
            }
            "societe.created" | "societe.updated" => {
                let SocietePayload { societe } = payload(event)?;
                db::directory::upsert_societe(&mut *tx, org, societe.societe_id, &societe.name)
                    .await?;
            }
            "societe.deleted" => {
                let SocietePayload { societe } = payload(event)?;
                db::directory::delete_societe(&mut *tx, org, societe.societe_id).await?;
            }
            other => {
                return Err(HandlerError::Permanent(anyhow::anyhow!(
                    "unexpected event type {other}"
                )))
            }
        }
        Ok(())
    }
}

/// The consumer computing commissions from payments.
pub fn payments_consumer() -> ConsumerSpec {
    ConsumerSpec::new(
        "commercial-payments",
        &["payment.received", "payment.rejected"],
    )
}

pub struct PaymentsHandler;

/// `payment.received` v1, as finance publishes it.
#[derive(Debug, Deserialize)]
pub struct PaymentReceived {
    pub payment_id: Uuid,
    pub contract_id: Uuid,
    /// Incl. VAT, a decimal string.
    pub amount: Decimal,
    /// Excl. VAT when finance knows it; else derived from the contract's totals.
    #[serde(default)]
    pub amount_excl_vat: Option<Decimal>,
    pub currency: String,
    pub received_on: NaiveDate,
}

/// `payment.rejected` v1.
#[derive(Debug, Deserialize)]
pub struct PaymentRejected {
    pub payment_id: Uuid,
    /// No retry will follow.
    #[serde(rename = "final")]
    pub is_final: bool,
    pub rejected_on: NaiveDate,
}

fn permanent(message: String) -> HandlerError {
    HandlerError::Permanent(anyhow::anyhow!(message))
}

impl Handler for PaymentsHandler {
    type Output = ();

    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        match event.event_type.as_str() {
            "payment.received" => commission_for_payment(tx, event, payload(event)?).await,
            "payment.rejected" => clawback_for_rejection(tx, event, payload(event)?).await,
            other => Err(permanent(format!("unexpected event type {other}"))),
        }
    }
}

async fn commission_for_payment(
    tx: &mut PgConnection,
    event: &Envelope,
    payment: PaymentReceived,
) -> Result<(), HandlerError> {
    let org = event.organisation_id;
    if payment.amount <= Decimal::ZERO {
        return Err(permanent(format!(
            "payment {} has no amount",
            payment.payment_id
        )));
    }
    let contract = db::contract::find_contract(&mut *tx, org, payment.contract_id)
        .await?
        .ok_or_else(|| {
            permanent(format!(
                "no contract {} in the organisation",
                payment.contract_id
            ))
        })?;
    let Some(sales_rep_id) = contract.sales_rep_id else {
        tracing::info!(contract = %contract.id, "payment on a contract without a sales rep: no commission");
        return Ok(());
    };
    let lines = db::contract::lines_of_contracts(&mut *tx, org, &[contract.id]).await?;
    // The contract's main product (its largest line) decides the product-category filter.
    let main_product = lines
        .iter()
        .max_by_key(|l| (l.total_excl_vat, std::cmp::Reverse(l.position)))
        .map(|l| l.product_id);
    let category = match main_product {
        Some(id) => db::catalogue::find_product(&mut *tx, org, id)
            .await?
            .map(|p| p.category),
        None => None,
    };
    let situation = Situation {
        date: payment.received_on,
        product_category: category,
        societe_id: contract.societe_id,
        sales_channel: contract.sales_channel.clone(),
    };
    let candidates = db::scale::candidates(&mut *tx, org, payment.received_on).await?;
    let scales: Vec<_> = candidates.iter().map(|(_, s)| s.clone()).collect();
    // Without a scale the event is dead-lettered: once one is configured, replaying it
    // computes the commission.
    let scale = select_scale(&scales, &situation).ok_or_else(|| {
        permanent(format!(
            "no commission scale applies to contract {} on {}",
            contract.reference, payment.received_on
        ))
    })?;
    let base_amount = match (payment.amount_excl_vat, scale.base) {
        (_, CommissionBase::Flat) => Decimal::ZERO,
        (Some(excl), _) => excl,
        (None, _) if contract.total_incl_vat > Decimal::ZERO => {
            round_cents(payment.amount * contract.total_excl_vat / contract.total_incl_vat)
        }
        (None, _) => payment.amount,
    };
    let computation = compute(scale, base_amount);
    let new = NewCommission {
        sales_rep_id,
        contract_id: contract.id,
        payment_id: payment.payment_id,
        source_event_id: event.id,
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
    };
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
        .await
        .map_err(|e| HandlerError::Transient(anyhow::anyhow!("cannot record: {e:?}")))?;
    }
    Ok(())
}

async fn clawback_for_rejection(
    tx: &mut PgConnection,
    event: &Envelope,
    rejection: PaymentRejected,
) -> Result<(), HandlerError> {
    if !rejection.is_final {
        return Ok(()); // a retry follows: the commission stands for now
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
