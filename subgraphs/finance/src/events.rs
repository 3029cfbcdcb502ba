//! Finance's events.
//!
//! Published (recorded in the transaction of the change), with the payloads of
//! `crm_events::finance`: `invoice.issued` (never for drafts), `invoice.paid`,
//! `credit_note.issued`.
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
    finance::{CreditNoteIssued, InvoiceIssued, InvoicePaid, InvoiceSummary},
};
use sqlx::PgConnection;
use subgraph_kit::{
    consumer::{Handler, HandlerError},
    events::{record_event, Envelope},
};
use uuid::Uuid;

use crate::{db::invoice::InvoiceRow, domain::invoice::InvoiceKind, error::Result, ops::draft};

/// Every event finance emits.
#[derive(Debug)]
pub enum FinanceEvent<'a> {
    /// An invoice or a credit note was issued: numbered, immutable.
    Issued { invoice: &'a InvoiceRow },
    /// An invoice is fully paid.
    Paid { invoice: &'a InvoiceRow },
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
    }
}

impl FinanceEvent<'_> {
    fn invoice(&self) -> &InvoiceRow {
        match self {
            FinanceEvent::Issued { invoice } | FinanceEvent::Paid { invoice } => invoice,
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
