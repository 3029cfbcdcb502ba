//! Changing invoices: drafts created, edited and deleted freely; issued through the
//! compliance checks (`ops::issue`), then immutable; payments recorded against them; credit
//! notes. Changes need the MEMBER role, payments and credit notes the ADMIN role.

use async_graphql::{Context, InputObject, Object, ID};
use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use subgraph_kit::{
    error::Invalid,
    money::{parse_amount, parse_quantity, VatRate},
    server::RequestContext,
    text::{check_email, clean_text, country_code, optional_text},
    Role,
};
use uuid::Uuid;

use super::invoice::Invoice;
use crate::{
    db::{
        self,
        directory::ClientRow,
        invoice::{totals_of, DraftFields, InvoiceRow, LineFields},
    },
    domain::invoice::{
        BuyerKind, InvoiceKind, InvoiceStatus, LineAmounts, OperationNature, PaymentMethod,
        VatCategory,
    },
    error::{Error, Result},
    graphql::{parse_id, parse_opt_id, parts, FinanceState},
    ops::{
        credit_note::{credit, open_for_credit, CreditNote},
        issue::issue,
        payment::{settle, Settlement},
    },
};

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
    /// The buyer's e-mail address, its electronic address on the invoice when it has no
    /// SIREN (a private person); default: the client's.
    pub buyer_email: Option<String>,
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
    (state, request): (&FinanceState, &RequestContext),
    org: Uuid,
    input: &InvoiceInput,
) -> Result<DraftFields> {
    let societe_id = parse_id("societeId", &input.societe_id)?;
    if !state
        .directory
        .has_societe(tx, request, org, societe_id)
        .await?
    {
        return Err(Invalid::new("societeId", "is not a société of the organisation").into());
    }
    let client_id = parse_id("clientId", &input.client_id)?;
    state
        .directory
        .has_client(tx, request, org, client_id)
        .await?;
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
    let address = buyer_address(input, &client)?;
    Ok(DraftFields {
        societe_id,
        client_id,
        contract_id: parse_opt_id("contractId", input.contract_id.as_ref())?,
        delivery_date: input.delivery_date,
        payment_terms_days: terms,
        late_payment_rate: input.late_payment_rate,
        nature: input.nature,
        // Unknown only for a client not heard of since migration 0009: the stricter rule.
        buyer_kind: client.kind.unwrap_or(BuyerKind::Company),
        buyer_email: match optional_text("buyerEmail", input.buyer_email.as_deref(), 254)? {
            Some(email) => {
                check_email("buyerEmail", &email)?;
                Some(email)
            }
            None => client.email,
        },
        buyer_name: optional_text("buyerName", input.buyer_name.as_deref(), 200)?
            .unwrap_or(client.name),
        buyer_siren: optional_text("buyerSiren", input.buyer_siren.as_deref(), 9)?.or(client.siren),
        buyer_vat_number: optional_text("buyerVatNumber", input.buyer_vat_number.as_deref(), 20)?
            .or(client.vat_number),
        buyer_address_line1: address.line1,
        buyer_address_line2: address.line2,
        buyer_postal_code: address.postal_code,
        buyer_city: address.city,
        buyer_country: address.country,
        delivery_address: optional_text("deliveryAddress", input.delivery_address.as_deref(), 500)?,
        notes: optional_text("notes", input.notes.as_deref(), 2000)?,
    })
}

/// The buyer's address as printed.
struct BuyerAddress {
    line1: Option<String>,
    line2: Option<String>,
    postal_code: Option<String>,
    city: Option<String>,
    country: String,
}

/// The address given, else the client's billing address.
fn buyer_address(input: &InvoiceInput, client: &ClientRow) -> Result<BuyerAddress> {
    let country = country_code("buyerCountry", &input.buyer_country)?;
    let given = input.buyer_address_line1.is_some()
        || input.buyer_postal_code.is_some()
        || input.buyer_city.is_some();
    if !given {
        return Ok(BuyerAddress {
            line1: client.billing_line1.clone(),
            line2: client.billing_line2.clone(),
            postal_code: client.billing_postal_code.clone(),
            city: client.billing_city.clone(),
            country: client.billing_country.clone().unwrap_or(country),
        });
    }
    Ok(BuyerAddress {
        line1: optional_text(
            "buyerAddressLine1",
            input.buyer_address_line1.as_deref(),
            200,
        )?,
        line2: optional_text(
            "buyerAddressLine2",
            input.buyer_address_line2.as_deref(),
            200,
        )?,
        postal_code: optional_text("buyerPostalCode", input.buyer_postal_code.as_deref(), 20)?,
        city: optional_text("buyerCity", input.buyer_city.as_deref(), 100)?,
        country,
    })
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

#[derive(InputObject)]
pub struct RecordPaymentInput {
    pub invoice_id: ID,
    pub amount: Decimal,
    pub paid_on: NaiveDate,
    pub method: PaymentMethod,
    pub reference: Option<String>,
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
        let fields = draft_fields(&mut tx, (state, request), org, &input).await?;
        let lines = parse_lines(input.lines)?;
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
        let fields = draft_fields(&mut tx, (state, request), org, &input).await?;
        let lines = parse_lines(input.lines)?;
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
    ) -> Result<Invoice> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let id = parse_id("id", &id)?;
        let today = Utc::now().date_naive();
        let issue_date = issue_date.unwrap_or(today);
        if issue_date > today {
            return Err(Invalid::new("issueDate", "is in the future").into());
        }
        let mut tx = state.pool.begin().await?;
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
        tx.commit().await?;
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
    ) -> Result<Invoice> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let id = parse_id("invoiceId", &invoice_id)?;
        let reason = clean_text("reason", &reason, 1000)?;
        let mut tx = state.pool.begin().await?;
        let original = open_for_credit(&mut tx, tenant.organisation_id, id).await?;
        let note = CreditNote {
            lines: lines.map(parse_lines).transpose()?,
            reason,
        };
        let row = credit(
            &mut tx,
            &state.store,
            &tenant,
            &request.request_id,
            &original,
            note,
        )
        .await?;
        tx.commit().await?;
        Ok(Invoice(row))
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
        let invoice_id = parse_id("invoiceId", &input.invoice_id)?;
        let amount = parse_amount("amount", input.amount)?;
        if amount.is_zero() {
            return Err(Invalid::new("amount", "must be more than zero").into());
        }
        let payment = Settlement {
            invoice_id,
            amount,
            paid_on: input.paid_on,
            method: input.method,
            reference: optional_text("reference", input.reference.as_deref(), 100)?,
        };
        let mut tx = state.pool.begin().await?;
        let row = settle(&mut tx, &tenant, &request.request_id, payment).await?;
        tx.commit().await?;
        Ok(Invoice(row))
    }
}

/// Each line parsed, its errors naming `lines.<i>.<field>`.
fn parse_lines(lines: Vec<InvoiceLineInput>) -> Result<Vec<LineFields>, Invalid> {
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| line_fields(i, l))
        .collect()
}
