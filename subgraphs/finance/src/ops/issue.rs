//! Issuing an invoice or a credit note, in the caller's transaction: every compliance problem
//! reported at once, the next number of the série from its locked counter, the Factur-X XML
//! in a PDF/A-3 stored before commit, the hash chain, `invoice.issued`. Nothing is written
//! (and no number consumed) unless it all succeeds.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use subgraph_kit::{
    digest::sha256_hex,
    money::cents,
    server::Tenant,
    storage::{DocumentStore, LocalStore},
};

use crate::{
    db::{
        self,
        invoice::{nets, InvoiceRow, Issue, LineRow},
        settings::SettingsRow,
    },
    domain::{
        facturx::{self, Document, Party},
        invoice::{
            due_date, format_number, vat_breakdown, BuyerKind, Compliance, InvoiceKind,
            InvoiceStatus, VatCategory,
        },
    },
    error::{Error, Result},
    events::{self, FinanceEvent},
};

/// The number, dates and references a document gets at issue.
struct Numbered {
    number: String,
    issue_date: NaiveDate,
    delivery_date: NaiveDate,
    due_date: NaiveDate,
    /// The number and date of the invoice a credit note corrects.
    original: Option<(String, NaiveDate)>,
}

/// Issues the draft `invoice` (locked by the caller) on `issue_date`.
#[tracing::instrument(skip_all, fields(invoice = %invoice.id))]
pub async fn issue(
    tx: &mut PgConnection,
    store: &LocalStore,
    tenant: &Tenant,
    correlation: &str,
    invoice: &InvoiceRow,
    issue_date: NaiveDate,
) -> Result<InvoiceRow> {
    let org = tenant.organisation_id;
    let lines = db::invoice::lines_of(&mut *tx, org, &[invoice.id]).await?;
    let settings = db::settings::find_settings(&mut *tx, org, invoice.societe_id).await?;
    check_compliance(invoice, &lines, settings.as_ref())?;
    let Some(settings) = settings else {
        return Err(Error::not_found("invoice settings"));
    };
    let (series, prefix) = match invoice.kind {
        InvoiceKind::Invoice => ("INVOICE", settings.invoice_prefix.as_str()),
        InvoiceKind::CreditNote => ("CREDIT_NOTE", settings.credit_note_prefix.as_str()),
    };
    let year = issue_date.year();
    let (sequence, previous_chain) =
        db::invoice::next_sequence(&mut *tx, org, invoice.societe_id, series, year).await?;
    let original = match invoice.original_invoice_id {
        Some(id) => db::invoice::find_invoice(&mut *tx, org, id)
            .await?
            .and_then(|o| o.number.zip(o.issue_date)),
        None => None,
    };
    let numbered = Numbered {
        number: format_number(prefix, year, sequence),
        issue_date,
        delivery_date: invoice.delivery_date.unwrap_or(issue_date),
        due_date: due_date(issue_date, invoice.payment_terms_days),
        original,
    };
    let document = document(invoice, &lines, &settings, &numbered);
    let xml = facturx::cii_xml(&document);
    let pdf_key = format!("{org}/{}.pdf", invoice.id);
    let document_sha256 = render_and_store(store, document, &xml, &settings, &pdf_key).await?;
    let chain_sha256 =
        sha256_hex(format!("{}{document_sha256}", previous_chain.unwrap_or_default()).as_bytes());
    db::invoice::set_chain(
        &mut *tx,
        org,
        invoice.societe_id,
        series,
        year,
        &chain_sha256,
    )
    .await?;
    let issued = Issue {
        number: &numbered.number,
        series,
        year,
        sequence,
        issue_date,
        delivery_date: numbered.delivery_date,
        due_date: numbered.due_date,
        status: InvoiceStatus::Issued,
        xml: &xml,
        document_sha256: &document_sha256,
        chain_sha256: &chain_sha256,
        pdf_key: &pdf_key,
        by: tenant.user_id,
    };
    let row = db::invoice::mark_issued(&mut *tx, org, invoice.id, &issued).await?;
    events::record(
        tx,
        Some(correlation),
        None,
        FinanceEvent::Issued { invoice: &row },
    )
    .await?;
    Ok(row)
}

/// Every problem that forbids issuing, at once.
fn check_compliance(
    invoice: &InvoiceRow,
    lines: &[LineRow],
    settings: Option<&SettingsRow>,
) -> Result<()> {
    let mut check = Compliance::default();
    check.require(
        settings.is_some(),
        "societeId",
        "the société has no invoice settings (legal identity, address)",
    );
    check.require(
        !lines.is_empty(),
        "lines",
        "an invoice needs at least one line",
    );
    check.require(
        invoice.total_excl_vat > Decimal::ZERO,
        "lines",
        "the total excl. VAT must be more than zero",
    );
    check.require_text(Some(&invoice.buyer_name), "buyerName", "the buyer's name");
    check.require_text(
        invoice.buyer_address_line1.as_deref(),
        "buyerAddressLine1",
        "the buyer's address",
    );
    check.require_text(
        invoice.buyer_postal_code.as_deref(),
        "buyerPostalCode",
        "the buyer's postal code",
    );
    check.require_text(
        invoice.buyer_city.as_deref(),
        "buyerCity",
        "the buyer's city",
    );
    // A company is identified by its SIREN (the reform's mention, BT-47); a private person
    // has none to give, and one given must still be 9 digits.
    let siren_ok = |s: &str| s.len() == 9 && s.chars().all(|c| c.is_ascii_digit());
    match invoice.buyer_kind {
        BuyerKind::Company => check.require(
            invoice.buyer_siren.as_deref().is_some_and(siren_ok),
            "buyerSiren",
            "the buyer's SIREN (9 digits) is required to issue to a company",
        ),
        BuyerKind::Person => {
            check.require(
                invoice.buyer_siren.as_deref().is_none_or(siren_ok),
                "buyerSiren",
                "a SIREN has 9 digits",
            );
            // The invoice's electronic address of the buyer (BT-49, BR-FR-12).
            check.require(
                invoice.buyer_siren.is_some() || invoice.buyer_email.is_some(),
                "buyerEmail",
                "a private person's e-mail address is required to issue (the buyer's electronic address)",
            );
        }
    }
    if check.problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Problems {
            summary: "the invoice cannot be issued".into(),
            problems: check.problems,
        })
    }
}

/// The Factur-X document of the invoice as issued.
fn document(
    invoice: &InvoiceRow,
    lines: &[LineRow],
    settings: &SettingsRow,
    numbered: &Numbered,
) -> Document {
    Document {
        kind: invoice.kind,
        number: numbered.number.clone(),
        issue_date: numbered.issue_date,
        delivery_date: numbered.delivery_date,
        due_date: numbered.due_date,
        currency: invoice.currency.clone(),
        seller: seller(settings),
        buyer: Party {
            name: invoice.buyer_name.clone(),
            siren: invoice.buyer_siren.clone(),
            vat_number: invoice.buyer_vat_number.clone(),
            address_line1: invoice.buyer_address_line1.clone(),
            address_line2: invoice.buyer_address_line2.clone(),
            postal_code: invoice.buyer_postal_code.clone(),
            city: invoice.buyer_city.clone(),
            country: invoice.buyer_country.clone(),
            legal_info: None,
            email: invoice.buyer_email.clone(),
        },
        contract_reference: None,
        original: numbered.original.clone(),
        lines: lines.iter().map(document_line).collect(),
        breakdown: vat_breakdown(&nets(lines)),
        total_excl_vat: invoice.total_excl_vat,
        total_vat: invoice.total_vat,
        total_incl_vat: invoice.total_incl_vat,
        prepaid: Decimal::ZERO,
        payment_terms_days: invoice.payment_terms_days,
        late_payment_rate: invoice.late_payment_rate,
        recovery_indemnity: invoice.recovery_indemnity,
        nature: invoice.nature,
        vat_on_debits: settings.vat_on_debits,
        iban: settings.iban.clone(),
        bic: settings.bic.clone(),
        // The invoice's own notes, then the société's legal mentions.
        notes: [invoice.notes.clone(), settings.legal_mentions.clone()]
            .into_iter()
            .flatten()
            .reduce(|a, b| format!("{a}\n{b}")),
        delivery_address: invoice.delivery_address.clone(),
    }
}

fn document_line(l: &LineRow) -> facturx::Line {
    facturx::Line {
        position: l.position,
        product_reference: l.product_reference.clone(),
        description: l.description.clone(),
        quantity: l.quantity,
        unit_code: l.unit_code.clone(),
        unit_price: l.unit_price,
        discount: l.discount,
        category: VatCategory::parse(&l.vat_category).unwrap_or(VatCategory::Standard),
        vat_rate: l.vat_rate,
        net: l.total_excl_vat,
    }
}

fn seller(s: &SettingsRow) -> Party {
    Party {
        name: s.legal_name.clone(),
        siren: Some(s.siren.clone()),
        vat_number: Some(s.vat_number.clone()),
        address_line1: Some(s.address_line1.clone()),
        address_line2: s.address_line2.clone(),
        postal_code: Some(s.postal_code.clone()),
        city: Some(s.city.clone()),
        country: s.country.clone(),
        legal_info: Some(format!(
            "{} au capital de {} € - {}{}",
            s.legal_form,
            cents(s.share_capital).to_string().replace('.', ","),
            s.rcs,
            s.siret
                .as_ref()
                .map(|siret| format!(" - SIRET {siret}"))
                .unwrap_or_default()
        )),
        email: None,
    }
}

/// Renders the PDF/A-3 (on a blocking thread: it is CPU work) and stores it under `key`;
/// returns its SHA-256.
async fn render_and_store(
    store: &LocalStore,
    document: Document,
    xml: &str,
    settings: &SettingsRow,
    key: &str,
) -> Result<String> {
    let rendered = {
        let xml = xml.to_owned();
        let logo = settings.logo.clone();
        tokio::task::spawn_blocking(move || {
            crate::domain::pdf::render(&document, &xml, logo.as_deref())
        })
        .await
        .map_err(|e| Error::internal(format!("the PDF renderer panicked: {e}")))?
        .map_err(|e| Error::internal(format!("cannot render the PDF: {e}")))?
    };
    let sha256 = sha256_hex(&rendered);
    store
        .put(key, rendered)
        .await
        .map_err(|e| Error::internal(format!("cannot store the PDF: {e}")))?;
    Ok(sha256)
}
