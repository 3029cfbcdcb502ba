//! Commercial's events.
//!
//! Published (recorded in the transaction of the change, relayed by the kit), with the payloads
//! of `crm_events::commercial`: `contract.signed`, `contract.status_changed`,
//! `commission.calculated`.
//!
//! Consumed, each by a durable idempotent consumer:
//! - `commercial-directory`: core's directory events (the kit's projection of clients,
//!   sociétés and members), so that contract and sales-rep inputs naming them are checked;
//! - `commercial-payments`: `payment.received` (a commission per payment) and
//!   `payment.rejected` (a clawback when the rejection is final).

use crm_events::{
    commercial::{
        CommissionCalculated, ContractSigned, ContractStatusChanged, ContractSummary, SignedLine,
    },
    event_set,
    finance::{PaymentReceived, PaymentRejected},
};
use sqlx::PgConnection;
use subgraph_kit::{
    consumer::{Handler, HandlerError},
    events::{record_event, Envelope},
};
use uuid::Uuid;

use crate::{
    db::{
        catalogue::ProductRow,
        commission::CommissionRow,
        contract::{ContractRow, HistoryRow, LineRow},
    },
    error::Result,
    ops,
};

/// Every event commercial emits.
#[derive(Debug)]
pub enum CommercialEvent<'a> {
    /// A contract was signed: what finance needs to bill it.
    ContractSigned {
        contract: &'a ContractRow,
        lines: &'a [LineRow],
        /// The lines' products (for their SKU and name).
        products: &'a [ProductRow],
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

fn contract_summary(c: &ContractRow) -> ContractSummary {
    ContractSummary {
        contract_id: c.id,
        reference: c.reference.clone(),
        client_id: c.client_id,
        societe_id: c.societe_id,
        sales_rep_id: c.sales_rep_id,
        status: c.status.label().to_owned(),
        start_date: c.start_date,
        end_date: c.end_date,
        signature_date: c.signature_date,
        billing_frequency: c.billing_frequency.label().to_owned(),
        currency: c.currency.clone(),
        total_excl_vat: c.total_excl_vat,
        total_vat: c.total_vat,
        total_incl_vat: c.total_incl_vat,
    }
}

fn signed_line(l: &LineRow, products: &[ProductRow]) -> SignedLine {
    let product = products.iter().find(|p| p.id == l.product_id);
    SignedLine {
        line_id: l.id,
        product_id: l.product_id,
        product_sku: product.map(|p| p.sku.clone()),
        product_name: product.map(|p| p.name.clone()),
        description: l.description.clone(),
        quantity: l.quantity,
        unit_price: l.unit_price,
        vat_rate: l.vat_rate,
        billing_period: l.billing_period.map(|b| b.label().to_owned()),
        total_excl_vat: l.total_excl_vat,
        total_vat: l.total_vat,
        total_incl_vat: l.total_incl_vat,
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
    match event {
        CommercialEvent::ContractSigned {
            contract,
            lines,
            products,
        } => {
            let payload = ContractSigned {
                contract: contract_summary(contract),
                lines: lines.iter().map(|l| signed_line(l, products)).collect(),
            };
            record_event(
                tx,
                &payload,
                contract.organisation_id,
                correlation_id,
                causation,
            )
            .await
        }
        CommercialEvent::ContractStatusChanged { contract, change } => {
            let payload = ContractStatusChanged {
                contract: contract_summary(contract),
                previous: change.from_status.map(|s| s.label().to_owned()),
                new: change.to_status.label().to_owned(),
                reason: change.reason.clone(),
                triggered_by: change.changed_by,
                changed_at: change.changed_at,
            };
            record_event(
                tx,
                &payload,
                contract.organisation_id,
                correlation_id,
                causation,
            )
            .await
        }
        CommercialEvent::CommissionCalculated { commission: c } => {
            let payload = CommissionCalculated {
                commission_id: c.id,
                reference: c.reference.clone(),
                sales_rep_id: c.sales_rep_id,
                contract_id: c.contract_id,
                payment_id: c.payment_id,
                scale_id: c.scale_id,
                scale_version: c.scale_version,
                base_amount: c.base_amount,
                gross_amount: c.gross_amount,
                bonus_amount: c.bonus_amount,
                net_amount: c.net_amount,
                currency: c.currency.clone(),
                period: c.period.clone(),
            };
            record_event(tx, &payload, c.organisation_id, correlation_id, causation).await
        }
    }
}

event_set! {
    /// Finance's payment events commercial hears.
    pub enum PaymentEvent {
        PaymentReceived(PaymentReceived),
        PaymentRejected(PaymentRejected),
    }
}

/// The consumer computing commissions from payments.
pub struct PaymentsHandler;

impl Handler for PaymentsHandler {
    type Events = PaymentEvent;
    type Output = ();

    async fn handle(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope,
        event: PaymentEvent,
    ) -> Result<(), HandlerError> {
        match event {
            PaymentEvent::PaymentReceived(payment) => {
                ops::commission::commission_for_payment(tx, envelope, payment).await
            }
            PaymentEvent::PaymentRejected(rejection) => {
                ops::commission::clawback_for_rejection(tx, envelope, rejection).await
            }
        }
    }
}
