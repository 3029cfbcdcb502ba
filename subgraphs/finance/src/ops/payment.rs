//! Settling invoices: a payment recorded against an issued, unsettled invoice moves it to
//! PARTIALLY_PAID or PAID (never beyond its total), publishes `payment.received` when the
//! invoice bills a contract (commercial's commissions follow from it) and `invoice.paid` when
//! settled — all in the payment's transaction.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use subgraph_kit::{error::Invalid, money::cents, server::Tenant};
use uuid::Uuid;

use crate::{
    db::{self, invoice::InvoiceRow},
    domain::invoice::{InvoiceKind, InvoiceStatus, PaymentMethod},
    error::{Error, Result},
    events::{self, FinanceEvent},
};

/// A payment received for an invoice.
#[derive(Debug, Clone)]
pub struct Settlement {
    pub invoice_id: Uuid,
    /// More than zero.
    pub amount: Decimal,
    pub paid_on: NaiveDate,
    pub method: PaymentMethod,
    pub reference: Option<String>,
}

/// Records the payment; returns the invoice as it now stands.
#[tracing::instrument(skip_all, fields(invoice = %payment.invoice_id))]
pub async fn settle(
    tx: &mut PgConnection,
    tenant: &Tenant,
    correlation: &str,
    payment: Settlement,
) -> Result<InvoiceRow> {
    let org = tenant.organisation_id;
    let id = payment.invoice_id;
    let invoice = db::invoice::lock_invoice(&mut *tx, org, id)
        .await?
        .ok_or(Error::not_found("invoice"))?;
    if invoice.kind != InvoiceKind::Invoice || !invoice.status.is_open() {
        return Err(Error::InvalidTransition(format!(
            "payments are recorded on issued, unsettled invoices; this one is {}",
            invoice.status.label()
        )));
    }
    let paid = invoice.amount_paid + payment.amount;
    if paid > invoice.total_incl_vat {
        return Err(Invalid::new(
            "amount",
            format!(
                "only {} remains due",
                cents(invoice.total_incl_vat - invoice.amount_paid)
            ),
        )
        .into());
    }
    let recorded = db::payment::insert_payment(
        &mut *tx,
        org,
        id,
        payment.amount,
        payment.paid_on,
        payment.method,
        payment.reference.as_deref(),
        tenant.user_id,
    )
    .await?;
    let status = InvoiceStatus::after_payment(paid, invoice.total_incl_vat);
    let row = db::invoice::set_status(&mut *tx, org, id, status, paid).await?;
    // Published only when the invoice bills a contract (events::record decides).
    events::record(
        tx,
        Some(correlation),
        None,
        FinanceEvent::PaymentReceived {
            invoice: &row,
            payment: &recorded,
        },
    )
    .await?;
    if status == InvoiceStatus::Paid {
        events::record(
            tx,
            Some(correlation),
            None,
            FinanceEvent::Paid { invoice: &row },
        )
        .await?;
    }
    Ok(row)
}
