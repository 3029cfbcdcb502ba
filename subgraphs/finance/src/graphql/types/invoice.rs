//! Invoices and credit notes: drafts edited freely, issued through the compliance checks
//! with a number from the series counter and their Factur-X XML, then immutable; payments
//! recorded against them; credit notes; the FEC export. Changes need the MEMBER role,
//! payments and credit notes the ADMIN role.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use subgraph_kit::{
    error::Invalid,
    money::{cents, parse_amount, parse_quantity, VatRate},
    pagination::{build_page, Keyset, Page, PageRequest},
    server::Tenant,
    text::{clean_text, country_code, optional_text},
    Role,
};
use uuid::Uuid;

use crate::{
    db::{
        self,
        invoice::{DraftFields, InvoiceFilter, InvoiceRow, Issue, LineFields, LineRow, PaymentRow},
        settings::SettingsRow,
    },
    domain::{
        facturx::{self, Document, Party},
        fec,
        invoice::{
            due_date, format_number, invoice_totals, vat_breakdown, Compliance, InvoiceKind,
            InvoiceStatus, LineAmounts, OperationNature, VatCategory,
        },
    },
    error::{Error, Result},
    events::{self, FinanceEvent},
    graphql::{loaders, parse_id, parse_opt_id, parts},
    storage::DocumentStore,
};

#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq)]
#[sqlx(type_name = "payment_method", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMethod {
    Transfer,
    SepaDebit,
    Card,
    Cheque,
    Cash,
    Other,
}

/// A core client, as finance extends it: its invoices.
pub struct Client {
    pub id: ID,
}

#[Object]
impl Client {
    async fn id(&self) -> &ID {
        &self.id
    }
    /// The client's invoices and credit notes, newest first.
    async fn invoices(&self, ctx: &Context<'_>) -> Result<Vec<Invoice>> {
        let Ok(id) = parse_id("id", &self.id) else {
            return Ok(Vec::new());
        };
        Ok(loaders::of_client(ctx, id)
            .await?
            .into_iter()
            .map(Invoice)
            .collect())
    }
}

/// A commercial contract, as finance extends it: its invoices.
pub struct Contract {
    pub id: ID,
}

#[Object]
impl Contract {
    async fn id(&self) -> &ID {
        &self.id
    }
    /// The contract's invoices and credit notes, newest first.
    async fn invoices(&self, ctx: &Context<'_>) -> Result<Vec<Invoice>> {
        let Ok(id) = parse_id("id", &self.id) else {
            return Ok(Vec::new());
        };
        Ok(loaders::of_contract(ctx, id)
            .await?
            .into_iter()
            .map(Invoice)
            .collect())
    }
}

/// A core société.
pub struct Societe {
    pub id: ID,
}

#[Object]
impl Societe {
    async fn id(&self) -> &ID {
        &self.id
    }
}

#[derive(SimpleObject)]
pub struct VatLine {
    pub category: VatCategory,
    pub rate: Decimal,
    pub base: Decimal,
    pub tax: Decimal,
}

#[derive(SimpleObject)]
pub struct InvoicePayment {
    pub id: ID,
    pub amount: Decimal,
    pub paid_on: NaiveDate,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

impl From<PaymentRow> for InvoicePayment {
    fn from(p: PaymentRow) -> Self {
        Self {
            id: ID(p.id.to_string()),
            amount: cents(p.amount),
            paid_on: p.paid_on,
            method: p.method,
            reference: p.reference,
            recorded_at: p.recorded_at,
        }
    }
}

/// An invoice or a credit note.
pub struct Invoice(pub InvoiceRow);

#[Object]
impl Invoice {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn kind(&self) -> InvoiceKind {
        self.0.kind
    }
    /// Assigned at issue; null for a draft.
    async fn number(&self) -> Option<&str> {
        self.0.number.as_deref()
    }
    async fn status(&self) -> InvoiceStatus {
        self.0.status
    }
    /// Issued, not settled, past its due date.
    async fn overdue(&self) -> bool {
        self.0.kind == InvoiceKind::Invoice
            && self.0.status.is_open()
            && self.0.due_date.is_some_and(|d| d < Utc::now().date_naive())
    }
    async fn client(&self) -> Client {
        Client {
            id: ID(self.0.client_id.to_string()),
        }
    }
    async fn contract(&self) -> Option<Contract> {
        self.0.contract_id.map(|id| Contract {
            id: ID(id.to_string()),
        })
    }
    async fn societe(&self) -> Societe {
        Societe {
            id: ID(self.0.societe_id.to_string()),
        }
    }
    /// A credit note's original invoice.
    async fn original_invoice(&self, ctx: &Context<'_>) -> Result<Option<Invoice>> {
        let Some(id) = self.0.original_invoice_id else {
            return Ok(None);
        };
        Ok(loaders::invoice(ctx, id).await?.map(Invoice))
    }
    async fn issue_date(&self) -> Option<NaiveDate> {
        self.0.issue_date
    }
    async fn delivery_date(&self) -> Option<NaiveDate> {
        self.0.delivery_date
    }
    async fn due_date(&self) -> Option<NaiveDate> {
        self.0.due_date
    }
    async fn payment_terms_days(&self) -> i32 {
        self.0.payment_terms_days
    }
    /// Yearly late-payment penalty rate, percent.
    async fn late_payment_rate(&self) -> Decimal {
        self.0.late_payment_rate.normalize()
    }
    /// The fixed recovery indemnity (€40).
    async fn recovery_indemnity(&self) -> Decimal {
        cents(self.0.recovery_indemnity)
    }
    async fn nature(&self) -> OperationNature {
        self.0.nature
    }
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    async fn buyer_name(&self) -> &str {
        &self.0.buyer_name
    }
    async fn buyer_siren(&self) -> Option<&str> {
        self.0.buyer_siren.as_deref()
    }
    async fn buyer_vat_number(&self) -> Option<&str> {
        self.0.buyer_vat_number.as_deref()
    }
    async fn buyer_address(&self) -> Option<String> {
        let r = &self.0;
        r.buyer_address_line1.as_ref().map(|line1| {
            [
                Some(line1.clone()),
                r.buyer_address_line2.clone(),
                Some(
                    format!(
                        "{} {}",
                        r.buyer_postal_code.clone().unwrap_or_default(),
                        r.buyer_city.clone().unwrap_or_default()
                    )
                    .trim()
                    .to_owned(),
                ),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ")
        })
    }
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    async fn total_excl_vat(&self) -> Decimal {
        cents(self.0.total_excl_vat)
    }
    async fn total_vat(&self) -> Decimal {
        cents(self.0.total_vat)
    }
    async fn total_incl_vat(&self) -> Decimal {
        cents(self.0.total_incl_vat)
    }
    async fn amount_paid(&self) -> Decimal {
        cents(self.0.amount_paid)
    }
    async fn amount_due(&self) -> Decimal {
        cents(self.0.total_incl_vat - self.0.amount_paid)
    }
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<InvoiceLine>> {
        Ok(loaders::lines(ctx, self.0.id)
            .await?
            .into_iter()
            .map(InvoiceLine)
            .collect())
    }
    /// Bases and taxes per VAT category and rate.
    async fn vat_breakdown(&self, ctx: &Context<'_>) -> Result<Vec<VatLine>> {
        let lines = loaders::lines(ctx, self.0.id).await?;
        Ok(vat_breakdown(&nets(&lines))
            .into_iter()
            .map(|g| VatLine {
                category: g.category,
                rate: g.rate.normalize(),
                base: cents(g.base),
                tax: cents(g.tax),
            })
            .collect())
    }
    async fn payments(&self, ctx: &Context<'_>) -> Result<Vec<InvoicePayment>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let rows = db::invoice::payments_of(&state.pool, tenant.organisation_id, self.0.id).await?;
        Ok(rows.into_iter().map(InvoicePayment::from).collect())
    }
    /// The Factur-X (CII, EN 16931) XML, from issue on.
    async fn facturx_xml(&self) -> Option<&str> {
        self.0.facturx_xml.as_deref()
    }
    /// SHA-256 of the issued PDF/A-3.
    async fn document_sha256(&self) -> Option<&str> {
        self.0.document_sha256.as_deref()
    }
    /// SHA-256 chaining this document to the series' previous one.
    async fn chain_sha256(&self) -> Option<&str> {
        self.0.chain_sha256.as_deref()
    }
    /// Where the PDF/A-3 downloads from (with the caller's bearer token), from issue on.
    async fn pdf_url(&self, ctx: &Context<'_>) -> Option<String> {
        let (state, _) = parts(ctx);
        self.0
            .pdf_key
            .as_ref()
            .map(|_| crate::documents::pdf_url(&state.public_url, self.0.id))
    }
    async fn issued_at(&self) -> Option<DateTime<Utc>> {
        self.0.issued_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

pub struct InvoiceLine(pub LineRow);

#[Object]
impl InvoiceLine {
    async fn position(&self) -> i32 {
        self.0.position
    }
    async fn product_reference(&self) -> Option<&str> {
        self.0.product_reference.as_deref()
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn quantity(&self) -> Decimal {
        self.0.quantity.normalize()
    }
    /// UN/ECE Recommendation 20 code.
    async fn unit_code(&self) -> &str {
        &self.0.unit_code
    }
    async fn unit_price(&self) -> Decimal {
        cents(self.0.unit_price)
    }
    async fn discount(&self) -> Decimal {
        cents(self.0.discount)
    }
    async fn vat_category(&self) -> VatCategory {
        VatCategory::parse(&self.0.vat_category).unwrap_or(VatCategory::Standard)
    }
    async fn vat_rate(&self) -> Decimal {
        self.0.vat_rate.normalize()
    }
    async fn total_excl_vat(&self) -> Decimal {
        cents(self.0.total_excl_vat)
    }
    async fn total_vat(&self) -> Decimal {
        cents(self.0.total_vat)
    }
    async fn total_incl_vat(&self) -> Decimal {
        cents(self.0.total_incl_vat)
    }
}

fn nets(lines: &[LineRow]) -> Vec<(VatCategory, Decimal, Decimal)> {
    lines
        .iter()
        .map(|l| {
            (
                VatCategory::parse(&l.vat_category).unwrap_or(VatCategory::Standard),
                l.vat_rate,
                l.total_excl_vat,
            )
        })
        .collect()
}

#[derive(InputObject)]
pub struct InvoiceLineInput {
    pub product_reference: Option<String>,
    pub description: String,
    pub quantity: Decimal,
    #[graphql(default = "C62")]
    pub unit_code: String,
    pub unit_price: Decimal,
    #[graphql(default)]
    pub discount: Decimal,
    #[graphql(default_with = "VatCategory::Standard")]
    pub vat_category: VatCategory,
    pub vat_rate: Decimal,
}

#[derive(InputObject)]
pub struct InvoiceInput {
    pub societe_id: ID,
    pub client_id: ID,
    pub contract_id: Option<ID>,
    /// Date of supply; the issue date when omitted.
    pub delivery_date: Option<NaiveDate>,
    /// The client's terms when omitted.
    pub payment_terms_days: Option<i32>,
    #[graphql(default_with = "Decimal::new(135, 1)")]
    pub late_payment_rate: Decimal,
    #[graphql(default_with = "OperationNature::Services")]
    pub nature: OperationNature,
    /// The buyer as printed; the client's identity fills what is omitted.
    pub buyer_name: Option<String>,
    pub buyer_siren: Option<String>,
    pub buyer_vat_number: Option<String>,
    pub buyer_address_line1: Option<String>,
    pub buyer_address_line2: Option<String>,
    pub buyer_postal_code: Option<String>,
    pub buyer_city: Option<String>,
    #[graphql(default = "FR")]
    pub buyer_country: String,
    pub delivery_address: Option<String>,
    pub notes: Option<String>,
    #[graphql(default)]
    pub lines: Vec<InvoiceLineInput>,
}

fn line_fields(i: usize, l: InvoiceLineInput) -> Result<LineFields, Invalid> {
    let at = |name: &str| format!("lines.{i}.{name}");
    let description = clean_text(&at("description"), &l.description, 1000)?;
    let quantity = parse_quantity(&at("quantity"), l.quantity)?;
    let unit_price = parse_amount(&at("unitPrice"), l.unit_price)?;
    let discount = parse_amount(&at("discount"), l.discount)?;
    let rate = VatRate::parse(&at("vatRate"), l.vat_rate)?;
    l.vat_category.check(&at("vatCategory"), rate)?;
    let amounts = LineAmounts {
        quantity,
        unit_price,
        discount,
        vat_rate: rate,
    };
    if discount > quantity * unit_price {
        return Err(Invalid::new(
            at("discount"),
            "is more than the line's amount",
        ));
    }
    let unit_code = l.unit_code.trim().to_uppercase();
    if unit_code.is_empty()
        || unit_code.len() > 3
        || !unit_code.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(Invalid::new(
            at("unitCode"),
            "must be a UN/ECE unit code such as C62",
        ));
    }
    Ok(LineFields {
        product_reference: optional_text(
            &at("productReference"),
            l.product_reference.as_deref(),
            100,
        )?,
        description,
        quantity,
        unit_code,
        unit_price,
        discount,
        vat_category: l.vat_category.code(),
        vat_rate: rate.percent(),
        totals: amounts.totals(),
    })
}

/// Checks a draft's input against the organisation's data and fills the buyer from the client.
async fn draft_fields(
    tx: &mut PgConnection,
    org: Uuid,
    input: &InvoiceInput,
) -> Result<DraftFields> {
    let societe_id = parse_id("societeId", &input.societe_id)?;
    if !db::directory::societe_exists(&mut *tx, org, societe_id).await? {
        return Err(Invalid::new("societeId", "is not a société of the organisation").into());
    }
    let client_id = parse_id("clientId", &input.client_id)?;
    let client = db::directory::find_client(&mut *tx, org, client_id)
        .await?
        .ok_or_else(|| {
            Error::Invalid(Invalid::new(
                "clientId",
                "is not a client of the organisation",
            ))
        })?;
    let terms = input
        .payment_terms_days
        .unwrap_or(client.payment_terms_days);
    if !(0..=365).contains(&terms) {
        return Err(Invalid::new("paymentTermsDays", "must be between 0 and 365").into());
    }
    if input.late_payment_rate < Decimal::ZERO || input.late_payment_rate > Decimal::ONE_HUNDRED {
        return Err(Invalid::new("latePaymentRate", "must be between 0 and 100").into());
    }
    let country = country_code("buyerCountry", &input.buyer_country)?;
    // The address given, else the client's billing address.
    let given = input.buyer_address_line1.is_some()
        || input.buyer_postal_code.is_some()
        || input.buyer_city.is_some();
    let (line1, line2, postal_code, city, from_client_country) = if given {
        (
            optional_text(
                "buyerAddressLine1",
                input.buyer_address_line1.as_deref(),
                200,
            )?,
            optional_text(
                "buyerAddressLine2",
                input.buyer_address_line2.as_deref(),
                200,
            )?,
            optional_text("buyerPostalCode", input.buyer_postal_code.as_deref(), 20)?,
            optional_text("buyerCity", input.buyer_city.as_deref(), 100)?,
            None,
        )
    } else {
        (
            client.billing_line1.clone(),
            client.billing_line2.clone(),
            client.billing_postal_code.clone(),
            client.billing_city.clone(),
            client.billing_country.clone(),
        )
    };
    Ok(DraftFields {
        societe_id,
        client_id,
        contract_id: parse_opt_id("contractId", input.contract_id.as_ref())?,
        delivery_date: input.delivery_date,
        payment_terms_days: terms,
        late_payment_rate: input.late_payment_rate,
        nature: input.nature,
        buyer_name: optional_text("buyerName", input.buyer_name.as_deref(), 200)?
            .unwrap_or(client.name),
        buyer_siren: optional_text("buyerSiren", input.buyer_siren.as_deref(), 9)?.or(client.siren),
        buyer_vat_number: optional_text("buyerVatNumber", input.buyer_vat_number.as_deref(), 20)?
            .or(client.vat_number),
        buyer_address_line1: line1,
        buyer_address_line2: line2,
        buyer_postal_code: postal_code,
        buyer_city: city,
        buyer_country: from_client_country.unwrap_or(country),
        delivery_address: optional_text("deliveryAddress", input.delivery_address.as_deref(), 500)?,
        notes: optional_text("notes", input.notes.as_deref(), 2000)?,
    })
}

fn totals_of(lines: &[LineFields]) -> subgraph_kit::money::Totals {
    let nets: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                VatCategory::parse(l.vat_category).unwrap_or(VatCategory::Standard),
                l.vat_rate,
                l.totals.excl_vat,
            )
        })
        .collect();
    invoice_totals(&vat_breakdown(&nets))
}

/// The invoice, locked, provided it is still a draft.
async fn lock_draft(tx: &mut PgConnection, org: Uuid, id: Uuid) -> Result<InvoiceRow> {
    let invoice = db::invoice::lock_invoice(&mut *tx, org, id)
        .await?
        .ok_or(Error::not_found("invoice"))?;
    if invoice.status != InvoiceStatus::Draft {
        return Err(Error::InvalidTransition(format!(
            "an issued invoice is never changed ({} is {}): issue a credit note instead",
            invoice.number.as_deref().unwrap_or("-"),
            invoice.status.label()
        )));
    }
    Ok(invoice)
}

/// Every compliance problem at once, as one VALIDATION error: `field` names the first,
/// `problems` lists them all.
pub fn compliance_error(problems: Vec<Invalid>) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    let first = problems
        .first()
        .map(|p| p.field.clone())
        .unwrap_or_default();
    let message = problems
        .iter()
        .map(|p| format!("{}: {}", p.field, p.message))
        .collect::<Vec<_>>()
        .join("; ");
    let list: Vec<async_graphql::Value> = problems
        .iter()
        .map(|p| {
            let mut map = async_graphql::indexmap::IndexMap::new();
            map.insert(
                async_graphql::Name::new("field"),
                async_graphql::Value::from(p.field.clone()),
            );
            map.insert(
                async_graphql::Name::new("message"),
                async_graphql::Value::from(p.message.clone()),
            );
            async_graphql::Value::Object(map)
        })
        .collect();
    subgraph_kit::error::validation(&first, format!("the invoice cannot be issued: {message}"))
        .extend_with(|_, ext| ext.set("problems", async_graphql::Value::List(list)))
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

/// Issues a draft in the caller's transaction: compliance, number, XML, hashes, event.
/// Nothing is written (and no number consumed) unless it all succeeds.
async fn issue(
    tx: &mut PgConnection,
    store: &crate::storage::LocalStore,
    tenant: &Tenant,
    correlation: &str,
    invoice: &InvoiceRow,
    issue_date: NaiveDate,
) -> std::result::Result<InvoiceRow, async_graphql::Error> {
    let org = tenant.organisation_id;
    let lines = db::invoice::lines_of(&mut *tx, org, &[invoice.id])
        .await
        .map_err(Error::from)?;
    let settings = db::settings::find_settings(&mut *tx, org, invoice.societe_id)
        .await
        .map_err(Error::from)?;
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
    check.require(
        invoice
            .buyer_siren
            .as_deref()
            .is_some_and(|s| s.len() == 9 && s.chars().all(|c| c.is_ascii_digit())),
        "buyerSiren",
        "the buyer's SIREN (9 digits) is required to issue",
    );
    if !check.problems.is_empty() {
        return Err(compliance_error(check.problems));
    }
    let Some(settings) = settings else {
        return Err(Error::not_found("invoice settings").into());
    };
    let (series, prefix) = match invoice.kind {
        InvoiceKind::Invoice => ("INVOICE", settings.invoice_prefix.as_str()),
        InvoiceKind::CreditNote => ("CREDIT_NOTE", settings.credit_note_prefix.as_str()),
    };
    let year = issue_date.year();
    let (sequence, previous_chain) =
        db::invoice::next_sequence(&mut *tx, org, invoice.societe_id, series, year)
            .await
            .map_err(Error::from)?;
    let number = format_number(prefix, year, sequence);
    let due = due_date(issue_date, invoice.payment_terms_days);
    let delivery = invoice.delivery_date.unwrap_or(issue_date);
    let original = match invoice.original_invoice_id {
        Some(id) => db::invoice::find_invoice(&mut *tx, org, id)
            .await
            .map_err(Error::from)?
            .and_then(|o| o.number.zip(o.issue_date)),
        None => None,
    };
    let breakdown = vat_breakdown(&nets(&lines));
    let document = Document {
        kind: invoice.kind,
        number: number.clone(),
        issue_date,
        delivery_date: delivery,
        due_date: due,
        currency: invoice.currency.clone(),
        seller: seller(&settings),
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
            email: None,
        },
        contract_reference: None,
        original,
        lines: lines
            .iter()
            .map(|l| facturx::Line {
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
            })
            .collect(),
        breakdown,
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
    };
    let xml = facturx::cii_xml(&document);
    let rendered = {
        let xml = xml.clone();
        let logo = settings.logo.clone();
        tokio::task::spawn_blocking(move || {
            crate::domain::pdf::render(&document, &xml, logo.as_deref())
        })
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("the PDF renderer panicked: {e}")))?
        .map_err(|e| Error::Internal(anyhow::anyhow!("cannot render the PDF: {e}")))?
    };
    let document_sha256 = hex(&Sha256::digest(&rendered));
    let pdf_key = format!("{org}/{}.pdf", invoice.id);
    store
        .put(&pdf_key, rendered)
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("cannot store the PDF: {e}")))?;
    let chain_sha256 = hex(&Sha256::digest(
        format!("{}{document_sha256}", previous_chain.unwrap_or_default()).as_bytes(),
    ));
    db::invoice::set_chain(
        &mut *tx,
        org,
        invoice.societe_id,
        series,
        year,
        &chain_sha256,
    )
    .await
    .map_err(Error::from)?;
    let row = db::invoice::mark_issued(
        &mut *tx,
        org,
        invoice.id,
        &Issue {
            number: &number,
            series,
            year,
            sequence,
            issue_date,
            delivery_date: delivery,
            due_date: due,
            status: InvoiceStatus::Issued,
            xml: &xml,
            document_sha256: &document_sha256,
            chain_sha256: &chain_sha256,
            pdf_key: &pdf_key,
            by: tenant.user_id,
        },
    )
    .await
    .map_err(Error::from)?;
    events::record(
        tx,
        Some(correlation),
        None,
        FinanceEvent::Issued { invoice: &row },
    )
    .await?;
    Ok(row)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(InputObject, Default)]
pub struct InvoiceFilterInput {
    pub status: Option<InvoiceStatus>,
    pub kind: Option<InvoiceKind>,
    pub client_id: Option<ID>,
    pub contract_id: Option<ID>,
    pub societe_id: Option<ID>,
    /// Only open invoices past their due date.
    #[graphql(default)]
    pub overdue: bool,
}

#[derive(SimpleObject)]
pub struct FecFile {
    /// `{SIREN}FEC{YYYYMMDD}.txt`.
    pub file_name: String,
    /// Tab-separated, 18 columns, CRLF line ends.
    pub content: String,
}

#[derive(InputObject)]
pub struct RecordPaymentInput {
    pub invoice_id: ID,
    pub amount: Decimal,
    pub paid_on: NaiveDate,
    pub method: PaymentMethod,
    pub reference: Option<String>,
}

#[derive(Default)]
pub struct InvoiceQuery;

#[Object]
impl InvoiceQuery {
    /// Invoices and credit notes, newest first.
    async fn invoices(
        &self,
        ctx: &Context<'_>,
        filter: Option<InvoiceFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Invoice>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let page = PageRequest::parse(first, after)?;
        let f = filter.unwrap_or_default();
        let filter = InvoiceFilter {
            status: f.status,
            kind: f.kind,
            client_id: parse_opt_id("filter.clientId", f.client_id.as_ref())?,
            contract_id: parse_opt_id("filter.contractId", f.contract_id.as_ref())?,
            societe_id: parse_opt_id("filter.societeId", f.societe_id.as_ref())?,
            overdue_on: f.overdue.then(|| Utc::now().date_naive()),
        };
        let (rows, total) =
            db::invoice::list_invoices_page(&state.pool, tenant.organisation_id, &filter, &page)
                .await?;
        Ok(build_page(
            &page,
            rows,
            total,
            |r| Keyset::instant(r.created_at, r.id),
            Invoice,
        ))
    }

    async fn invoice(&self, ctx: &Context<'_>, id: ID) -> Result<Invoice> {
        let id = parse_id("id", &id)?;
        loaders::invoice(ctx, id)
            .await?
            .map(Invoice)
            .ok_or(Error::not_found("invoice"))
    }

    /// The FEC of a société for a period (admins): the sales journal's entries.
    async fn fec_export(
        &self,
        ctx: &Context<'_>,
        societe_id: ID,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<FecFile> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let org = tenant.organisation_id;
        if to < from {
            return Err(Invalid::new("to", "is before from").into());
        }
        let societe = parse_id("societeId", &societe_id)?;
        let settings = db::settings::find_settings(&state.pool, org, societe)
            .await?
            .ok_or(Error::not_found("invoice settings"))?;
        let invoices = db::invoice::issued_between(&state.pool, org, societe, from, to).await?;
        let ids: Vec<Uuid> = invoices.iter().map(|i| i.id).collect();
        let lines = db::invoice::lines_of(&state.pool, org, &ids).await?;
        let entries: Vec<fec::Entry> = invoices
            .iter()
            .map(|i| {
                let own: Vec<LineRow> = lines
                    .iter()
                    .filter(|l| l.invoice_id == i.id)
                    .cloned()
                    .collect();
                fec::Entry {
                    kind: i.kind,
                    number: i.number.clone().unwrap_or_default(),
                    issue_date: i.issue_date.unwrap_or(from),
                    // The client's auxiliary account: its SIREN, else its id.
                    client_account: match &i.buyer_siren {
                        Some(siren) => format!("C{siren}"),
                        None => format!(
                            "C{}",
                            &i.client_id.simple().to_string()[..12].to_uppercase()
                        ),
                    },
                    client_name: i.buyer_name.clone(),
                    nature: i.nature,
                    by_rate: vat_breakdown(&nets(&own))
                        .into_iter()
                        .map(|g| (g.rate, g.base, g.tax))
                        .collect(),
                    total_incl_vat: i.total_incl_vat,
                }
            })
            .collect();
        Ok(FecFile {
            file_name: fec::file_name(&settings.siren, to),
            content: fec::export(&entries),
        })
    }
}

#[derive(Default)]
pub struct InvoiceMutation;

#[Object]
impl InvoiceMutation {
    /// Creates a DRAFT invoice (no number yet).
    async fn create_invoice(&self, ctx: &Context<'_>, input: InvoiceInput) -> Result<Invoice> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let org = tenant.organisation_id;
        let mut tx = state.pool.begin().await?;
        let fields = draft_fields(&mut tx, org, &input).await?;
        let lines = input
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| line_fields(i, l))
            .collect::<Result<Vec<_>, _>>()?;
        let draft = db::invoice::insert_draft(
            &mut *tx,
            org,
            InvoiceKind::Invoice,
            None,
            None,
            tenant.user_id,
            &fields,
        )
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("a new draft collided")))?;
        let row =
            db::invoice::replace_lines(&mut tx, org, draft.id, &lines, totals_of(&lines)).await?;
        tx.commit().await?;
        Ok(Invoice(row))
    }

    /// Replaces a DRAFT's fields and lines.
    async fn update_invoice(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: InvoiceInput,
    ) -> Result<Invoice> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let org = tenant.organisation_id;
        let id = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        let current = lock_draft(&mut tx, org, id).await?;
        if current.kind == InvoiceKind::CreditNote {
            return Err(Error::InvalidTransition(
                "a credit note is issued as it is created".into(),
            ));
        }
        let fields = draft_fields(&mut tx, org, &input).await?;
        let lines = input
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| line_fields(i, l))
            .collect::<Result<Vec<_>, _>>()?;
        db::invoice::update_draft(&mut *tx, org, id, &fields).await?;
        let row = db::invoice::replace_lines(&mut tx, org, id, &lines, totals_of(&lines)).await?;
        tx.commit().await?;
        Ok(Invoice(row))
    }

    /// Deletes a DRAFT (it has no number, so nothing is skipped).
    async fn delete_invoice(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let uuid = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        lock_draft(&mut tx, tenant.organisation_id, uuid).await?;
        db::invoice::delete_draft(&mut *tx, tenant.organisation_id, uuid).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// DRAFT → ISSUED: the compliance checks (every problem reported), the next number of
    /// the series, the Factur-X XML and its hashes, `invoice.issued`.
    async fn issue_invoice(
        &self,
        ctx: &Context<'_>,
        id: ID,
        issue_date: Option<NaiveDate>,
    ) -> std::result::Result<Invoice, async_graphql::Error> {
        let (state, request) = parts(ctx);
        let tenant = request
            .tenant_with_role(Role::Member)
            .map_err(Error::from)?;
        let id = parse_id("id", &id)?;
        let today = Utc::now().date_naive();
        let issue_date = issue_date.unwrap_or(today);
        if issue_date > today {
            return Err(Error::from(Invalid::new("issueDate", "is in the future")).into());
        }
        let mut tx = state.pool.begin().await.map_err(Error::from)?;
        let draft = lock_draft(&mut tx, tenant.organisation_id, id).await?;
        let row = issue(
            &mut tx,
            &state.store,
            &tenant,
            &request.request_id,
            &draft,
            issue_date,
        )
        .await?;
        tx.commit().await.map_err(Error::from)?;
        Ok(Invoice(row))
    }

    /// Issues a credit note (series AV) against an issued invoice: all its lines when `lines`
    /// is omitted, else the given ones, never more than what remains to credit. A full
    /// credit cancels the invoice.
    async fn create_credit_note(
        &self,
        ctx: &Context<'_>,
        invoice_id: ID,
        lines: Option<Vec<InvoiceLineInput>>,
        reason: String,
    ) -> std::result::Result<Invoice, async_graphql::Error> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin).map_err(Error::from)?;
        let org = tenant.organisation_id;
        let id = parse_id("invoiceId", &invoice_id)?;
        let reason = clean_text("reason", &reason, 1000).map_err(Error::from)?;
        let mut tx = state.pool.begin().await.map_err(Error::from)?;
        let original = db::invoice::lock_invoice(&mut *tx, org, id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::not_found("invoice"))?;
        if original.kind != InvoiceKind::Invoice
            || original.status == InvoiceStatus::Draft
            || original.status == InvoiceStatus::Cancelled
        {
            return Err(Error::InvalidTransition(format!(
                "only an issued invoice can be credited; this one is {}",
                original.status.label()
            ))
            .into());
        }
        let credit_lines: Vec<LineFields> = match lines {
            Some(lines) => lines
                .into_iter()
                .enumerate()
                .map(|(i, l)| line_fields(i, l))
                .collect::<Result<Vec<_>, _>>()
                .map_err(Error::from)?,
            None => db::invoice::lines_of(&mut *tx, org, &[id])
                .await
                .map_err(Error::from)?
                .into_iter()
                .map(|l| LineFields {
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
                })
                .collect(),
        };
        let totals = totals_of(&credit_lines);
        let already = db::invoice::credited(&mut *tx, org, id)
            .await
            .map_err(Error::from)?;
        if totals.incl_vat + already > original.total_incl_vat {
            return Err(Error::from(Invalid::new(
                "lines",
                format!(
                    "credits {} but only {} remains to credit on {}",
                    cents(totals.incl_vat),
                    cents(original.total_incl_vat - already),
                    original.number.as_deref().unwrap_or("-")
                ),
            ))
            .into());
        }
        let fields = DraftFields {
            societe_id: original.societe_id,
            client_id: original.client_id,
            contract_id: original.contract_id,
            delivery_date: original.delivery_date,
            payment_terms_days: 0,
            late_payment_rate: original.late_payment_rate,
            nature: original.nature,
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
        };
        let draft = db::invoice::insert_draft(
            &mut *tx,
            org,
            InvoiceKind::CreditNote,
            Some(id),
            None,
            tenant.user_id,
            &fields,
        )
        .await
        .map_err(Error::from)?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("a new credit note collided")))?;
        let draft = db::invoice::replace_lines(&mut tx, org, draft.id, &credit_lines, totals)
            .await
            .map_err(Error::from)?;
        let credit_note = issue(
            &mut tx,
            &state.store,
            &tenant,
            &request.request_id,
            &draft,
            Utc::now().date_naive(),
        )
        .await?;
        if totals.incl_vat + already == original.total_incl_vat {
            db::invoice::set_status(
                &mut *tx,
                org,
                id,
                InvoiceStatus::Cancelled,
                original.amount_paid,
            )
            .await
            .map_err(Error::from)?;
        }
        tx.commit().await.map_err(Error::from)?;
        Ok(Invoice(credit_note))
    }

    /// Records a payment against an issued invoice (admins): PARTIALLY_PAID or PAID, never
    /// beyond its total. Publishes `invoice.paid` when settled.
    async fn record_payment(
        &self,
        ctx: &Context<'_>,
        input: RecordPaymentInput,
    ) -> Result<Invoice> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let org = tenant.organisation_id;
        let id = parse_id("invoiceId", &input.invoice_id)?;
        let amount = parse_amount("amount", input.amount)?;
        if amount.is_zero() {
            return Err(Invalid::new("amount", "must be more than zero").into());
        }
        let reference = optional_text("reference", input.reference.as_deref(), 100)?;
        let mut tx = state.pool.begin().await?;
        let invoice = db::invoice::lock_invoice(&mut *tx, org, id)
            .await?
            .ok_or(Error::not_found("invoice"))?;
        if invoice.kind != InvoiceKind::Invoice || !invoice.status.is_open() {
            return Err(Error::InvalidTransition(format!(
                "payments are recorded on issued, unsettled invoices; this one is {}",
                invoice.status.label()
            )));
        }
        let paid = invoice.amount_paid + amount;
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
        db::invoice::insert_payment(
            &mut *tx,
            org,
            id,
            amount,
            input.paid_on,
            input.method,
            reference.as_deref(),
            tenant.user_id,
        )
        .await?;
        let status = InvoiceStatus::after_payment(paid, invoice.total_incl_vat);
        let row = db::invoice::set_status(&mut *tx, org, id, status, paid).await?;
        if status == InvoiceStatus::Paid {
            events::record(
                &mut tx,
                Some(&request.request_id),
                None,
                FinanceEvent::Paid { invoice: &row },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Invoice(row))
    }
}
