//! Credit notes: issued at once against an issued invoice, for all its lines or some, never
//! beyond what remains to credit; a full credit cancels the invoice.

use chrono::Utc;
use sqlx::PgConnection;
use subgraph_kit::{error::Invalid, money::cents, server::Tenant, storage::LocalStore};
use uuid::Uuid;

use crate::{
    db::{
        self,
        invoice::{totals_of, DraftFields, InvoiceRow, LineFields, LineRow},
    },
    domain::invoice::{InvoiceKind, InvoiceStatus, VatCategory},
    error::{Error, Result},
    ops::issue::issue,
};

/// What to credit.
#[derive(Debug)]
pub struct CreditNote {
    /// The lines to credit; `None`: all the invoice's lines.
    pub lines: Option<Vec<LineFields>>,
    pub reason: String,
}

/// The invoice to credit, locked, provided it is issued and not cancelled.
#[tracing::instrument(skip(tx))]
pub async fn open_for_credit(
    tx: &mut PgConnection,
    organisation_id: Uuid,
    id: Uuid,
) -> Result<InvoiceRow> {
    let original = db::invoice::lock_invoice(&mut *tx, organisation_id, id)
        .await?
        .ok_or(Error::not_found("invoice"))?;
    if original.kind != InvoiceKind::Invoice
        || original.status == InvoiceStatus::Draft
        || original.status == InvoiceStatus::Cancelled
    {
        return Err(Error::InvalidTransition(format!(
            "only an issued invoice can be credited; this one is {}",
            original.status.label()
        )));
    }
    Ok(original)
}

/// Issues the credit note against `original` (from [`open_for_credit`]); returns it.
#[tracing::instrument(skip_all, fields(invoice = %original.id))]
pub async fn credit(
    tx: &mut PgConnection,
    store: &LocalStore,
    tenant: &Tenant,
    correlation: &str,
    original: &InvoiceRow,
    credit: CreditNote,
) -> Result<InvoiceRow> {
    let org = tenant.organisation_id;
    let id = original.id;
    let lines = match credit.lines {
        Some(lines) => lines,
        None => db::invoice::lines_of(&mut *tx, org, &[id])
            .await?
            .into_iter()
            .map(credited_line)
            .collect(),
    };
    let totals = totals_of(&lines);
    let already = db::invoice::credited(&mut *tx, org, id).await?;
    if totals.incl_vat + already > original.total_incl_vat {
        return Err(Invalid::new(
            "lines",
            format!(
                "credits {} but only {} remains to credit on {}",
                cents(totals.incl_vat),
                cents(original.total_incl_vat - already),
                original.number.as_deref().unwrap_or("-")
            ),
        )
        .into());
    }
    let fields = credit_fields(original, &credit.reason);
    let draft = db::invoice::insert_draft(
        &mut *tx,
        org,
        InvoiceKind::CreditNote,
        Some(id),
        None,
        tenant.user_id,
        &fields,
    )
    .await?
    .ok_or_else(|| Error::internal("a new credit note collided"))?;
    let draft = db::invoice::replace_lines(tx, org, draft.id, &lines, totals).await?;
    let credit_note = issue(
        tx,
        store,
        tenant,
        correlation,
        &draft,
        Utc::now().date_naive(),
    )
    .await?;
    if totals.incl_vat + already == original.total_incl_vat {
        let cancelled = InvoiceStatus::Cancelled;
        db::invoice::set_status(&mut *tx, org, id, cancelled, original.amount_paid).await?;
    }
    Ok(credit_note)
}

/// An invoice line, credited as it was.
fn credited_line(l: LineRow) -> LineFields {
    LineFields {
        product_reference: l.product_reference,
        description: l.description,
        quantity: l.quantity,
        unit_code: l.unit_code,
        unit_price: l.unit_price,
        discount: l.discount,
        vat_category: VatCategory::parse(&l.vat_category)
            .unwrap_or(VatCategory::Standard)
            .code(),
        vat_rate: l.vat_rate,
        totals: subgraph_kit::money::Totals {
            excl_vat: l.total_excl_vat,
            vat: l.total_vat,
            incl_vat: l.total_incl_vat,
        },
    }
}

/// The credit note's fields: the original's buyer and terms, a note naming it.
fn credit_fields(original: &InvoiceRow, reason: &str) -> DraftFields {
    DraftFields {
        societe_id: original.societe_id,
        client_id: original.client_id,
        contract_id: original.contract_id,
        delivery_date: original.delivery_date,
        payment_terms_days: 0,
        late_payment_rate: original.late_payment_rate,
        nature: original.nature,
        buyer_kind: original.buyer_kind,
        buyer_email: original.buyer_email.clone(),
        buyer_name: original.buyer_name.clone(),
        buyer_siren: original.buyer_siren.clone(),
        buyer_vat_number: original.buyer_vat_number.clone(),
        buyer_address_line1: original.buyer_address_line1.clone(),
        buyer_address_line2: original.buyer_address_line2.clone(),
        buyer_postal_code: original.buyer_postal_code.clone(),
        buyer_city: original.buyer_city.clone(),
        buyer_country: original.buyer_country.clone(),
        delivery_address: original.delivery_address.clone(),
        notes: Some(format!(
            "Avoir sur la facture {} : {reason}",
            original.number.as_deref().unwrap_or("-")
        )),
    }
}
