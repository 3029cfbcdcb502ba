//! Invoices and credit notes as clients read them: their lines, VAT breakdown, payments and
//! documents; the lists, and the FEC export. Their changes are in `invoice_mutation`.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use subgraph_kit::{
    error::Invalid,
    money::cents,
    pagination::{build_page, Keyset, Page, PageRequest},
    Role,
};
use uuid::Uuid;

use super::entities::{Client, Contract, Societe};
use crate::{
    db::{
        self,
        invoice::{nets, InvoiceFilter, InvoiceRow, LineRow},
        payment::PaymentRow,
    },
    domain::{
        fec,
        invoice::{
            vat_breakdown, BuyerKind, InvoiceKind, InvoiceStatus, OperationNature, PaymentMethod,
            VatCategory,
        },
    },
    error::{Error, Result},
    graphql::{loaders, parse_id, parse_opt_id, parts},
};

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
    /// A private person (no SIREN needed) or a company, as the client was when drafted.
    async fn buyer_kind(&self) -> BuyerKind {
        self.0.buyer_kind
    }
    async fn buyer_name(&self) -> &str {
        &self.0.buyer_name
    }
    async fn buyer_siren(&self) -> Option<&str> {
        self.0.buyer_siren.as_deref()
    }
    /// The buyer's electronic address on the invoice when it has no SIREN.
    async fn buyer_email(&self) -> Option<&str> {
        self.0.buyer_email.as_deref()
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
    #[graphql(directive = subgraph_kit::cost::at_most::apply(3))]
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
    #[graphql(directive = subgraph_kit::cost::at_most::apply(5))]
    async fn payments(&self, ctx: &Context<'_>) -> Result<Vec<InvoicePayment>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let rows = db::payment::payments_of(&state.pool, tenant.organisation_id, self.0.id).await?;
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

#[derive(Default)]
pub struct InvoiceQuery;

#[Object]
impl InvoiceQuery {
    /// Invoices and credit notes, newest first.
    #[graphql(
        complexity = "subgraph_kit::pagination::cost(first, child_complexity)",
        directive = subgraph_kit::cost::paged::apply()
    )]
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
