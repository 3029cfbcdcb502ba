//! Finance's events: invoices and credit notes issued, invoices paid, payments received or
//! rejected.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::events;

events! {
    InvoiceIssued => "invoice.issued", version 1;
    InvoicePaid => "invoice.paid", version 1;
    CreditNoteIssued => "credit_note.issued", version 1;
    PaymentReceived => "payment.received", version 1;
    PaymentRejected => "payment.rejected", version 1;
}

/// An invoice or a credit note as its events carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceSummary {
    pub invoice_id: Uuid,
    /// `INVOICE` or `CREDIT_NOTE`.
    pub kind: String,
    pub number: Option<String>,
    pub societe_id: Uuid,
    pub client_id: Uuid,
    pub contract_id: Option<Uuid>,
    /// The invoice a credit note corrects.
    pub original_invoice_id: Option<Uuid>,
    pub status: String,
    pub issue_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub currency: String,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
    pub amount_paid: Decimal,
    /// SHA-256 of the issued PDF/A-3.
    pub document_sha256: Option<String>,
}

/// An invoice was issued: numbered, immutable (never for drafts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoiceIssued {
    pub invoice: InvoiceSummary,
}

/// An invoice is fully paid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvoicePaid {
    pub invoice: InvoiceSummary,
}

/// A credit note was issued against an invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreditNoteIssued {
    pub invoice: InvoiceSummary,
}

/// Money arrived for a contract: a payment recorded against one of its invoices (a cheque, a
/// transfer), or collected on its payment schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentReceived {
    pub payment_id: Uuid,
    pub contract_id: Uuid,
    /// The invoice the payment settles.
    #[serde(default)]
    pub invoice_id: Option<Uuid>,
    /// The payment schedule it was collected on; None for a payment recorded by hand.
    #[serde(default)]
    pub schedule_id: Option<Uuid>,
    /// Incl. VAT.
    pub amount: Decimal,
    /// Excl. VAT when finance knows it; else consumers derive it from the contract's totals.
    #[serde(default)]
    pub amount_excl_vat: Option<Decimal>,
    pub currency: String,
    pub received_on: NaiveDate,
}

/// A payment was rejected by the bank or the provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentRejected {
    pub payment_id: Uuid,
    /// No retry will follow.
    #[serde(rename = "final")]
    pub is_final: bool,
    pub rejected_on: NaiveDate,
}
