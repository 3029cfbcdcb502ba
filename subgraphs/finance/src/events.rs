//! Finance's events.
//!
//! Published (recorded in the transaction of the change), with the payloads of
//! `crm_events::finance`: `invoice.issued` (never for drafts), `invoice.paid`,
//! `credit_note.issued`, `payment.received` (a payment on an invoice that bills a contract).
//!
//! Consumed, each by a durable idempotent consumer:
//! - `finance-directory`: core's directory events (the kit's projection, with finance's hook
//!   keeping a client's identity and billing address), so that an invoice names a known
//!   client and starts from its identity;
//! - `finance-contracts`: commercial's `contract.signed`, which becomes a draft invoice with
//!   the contract's lines (one per signed contract, whatever the deliveries).

use crm_events::{
    commercial::ContractSigned,
    event_set,
    finance::{CreditNoteIssued, InvoiceIssued, InvoicePaid, InvoiceSummary, PaymentReceived},
};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use subgraph_kit::{
    consumer::{Handler, HandlerError},
    events::{record_event, Envelope},
    money::round_cents,
};
use uuid::Uuid;

use crate::{
    db::{invoice::InvoiceRow, payment::PaymentRow},
    domain::invoice::InvoiceKind,
    error::Result,
    ops::draft,
};

/// Every event finance emits.
#[derive(Debug)]
pub enum FinanceEvent<'a> {
    /// An invoice or a credit note was issued: numbered, immutable.
    Issued { invoice: &'a InvoiceRow },
    /// An invoice is fully paid.
    Paid { invoice: &'a InvoiceRow },
    /// A payment was recorded against `invoice`, which bills a contract.
    PaymentReceived {
        invoice: &'a InvoiceRow,
        payment: &'a PaymentRow,
    },
}

fn summary(i: &InvoiceRow) -> InvoiceSummary {
    InvoiceSummary {
        invoice_id: i.id,
        kind: i.kind.label().to_owned(),
        number: i.number.clone(),
        societe_id: i.societe_id,
        client_id: i.client_id,
        contract_id: i.contract_id,
        original_invoice_id: i.original_invoice_id,
        status: i.status.label().to_owned(),
        issue_date: i.issue_date,
        due_date: i.due_date,
        currency: i.currency.clone(),
        total_excl_vat: i.total_excl_vat,
        total_vat: i.total_vat,
        total_incl_vat: i.total_incl_vat,
        amount_paid: i.amount_paid,
        document_sha256: i.document_sha256.clone(),
    }
}

/// Records `event` in the caller's transaction, correlated with `correlation_id`.
pub async fn record(
    tx: &mut PgConnection,
    correlation_id: Option<&str>,
    causation: Option<Uuid>,
    event: FinanceEvent<'_>,
) -> Result<()> {
    let (org, cause) = (event.invoice().organisation_id, causation);
    match event {
        FinanceEvent::Issued { invoice } if invoice.kind == InvoiceKind::CreditNote => {
            let issued = CreditNoteIssued {
                invoice: summary(invoice),
            };
            record_event(tx, &issued, org, correlation_id, cause).await
        }
        FinanceEvent::Issued { invoice } => {
            let issued = InvoiceIssued {
                invoice: summary(invoice),
            };
            record_event(tx, &issued, org, correlation_id, cause).await
        }
        FinanceEvent::Paid { invoice } => {
            let paid = InvoicePaid {
                invoice: summary(invoice),
            };
            record_event(tx, &paid, org, correlation_id, cause).await
        }
        FinanceEvent::PaymentReceived { invoice, payment } => {
            let Some(contract_id) = invoice.contract_id else {
                return Ok(());
            };
            let received = PaymentReceived {
                payment_id: payment.id,
                contract_id,
                invoice_id: Some(invoice.id),
                schedule_id: None,
                amount: payment.amount,
                amount_excl_vat: Some(excl_vat_share(payment.amount, invoice)),
                currency: invoice.currency.clone(),
                received_on: payment.paid_on,
            };
            record_event(tx, &received, org, correlation_id, cause).await
        }
    }
}

/// The part of `amount` (incl. VAT) that is excl. VAT, in the invoice's proportion, to the
/// cent; the whole excl.-VAT total when `amount` settles the whole invoice.
fn excl_vat_share(amount: Decimal, invoice: &InvoiceRow) -> Decimal {
    if amount == invoice.total_incl_vat {
        return invoice.total_excl_vat;
    }
    // Payments are recorded on invoices whose total is more than zero.
    round_cents(amount * invoice.total_excl_vat / invoice.total_incl_vat)
}

impl FinanceEvent<'_> {
    fn invoice(&self) -> &InvoiceRow {
        match self {
            FinanceEvent::Issued { invoice }
            | FinanceEvent::Paid { invoice }
            | FinanceEvent::PaymentReceived { invoice, .. } => invoice,
        }
    }
}

event_set! {
    /// Commercial's events finance hears.
    pub enum ContractEvent {
        ContractSigned(ContractSigned),
    }
}

/// A signed contract becomes a draft invoice.
pub struct ContractsHandler;

impl Handler for ContractsHandler {
    type Events = ContractEvent;
    type Output = ();

    async fn handle(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope,
        event: ContractEvent,
    ) -> Result<(), HandlerError> {
        let ContractEvent::ContractSigned(signed) = event;
        draft::draft_from_contract(tx, envelope, &signed).await
    }
}
