//! Contracts: created as drafts with lines, signed, activated, suspended, terminated or
//! cancelled through guarded transitions that write history and publish events; and the
//! `Client.contracts` commercial adds to core's Client. Changes need the MEMBER role.

use async_graphql::{Context, InputObject, Object, ID};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use subgraph_kit::{
    error::{is_constraint_violation, Invalid},
    pagination::{build_page, Keyset, Page, PageRequest},
    server::Tenant,
    Role,
};
use uuid::Uuid;

use super::{
    catalogue::{sellable_product, Product},
    commission::Commission,
    sales_rep::SalesRep,
};
use crate::{
    db::{
        self,
        commission::ClawbackReason,
        contract::{ContractFields, ContractRow, HistoryRow, LineFields, LineRow},
    },
    domain::money::cents,
    domain::{
        clean_text,
        contract::{BillingFrequency, ContractStatus},
        money::{parse_amount, parse_quantity, Totals, VatRate},
        optional_text,
        product::{calculate_price, GridPrice, PriceRequest},
    },
    error::{Error, Result},
    events::{self, CommercialEvent},
    graphql::{loaders, parse_id, parse_opt_id, parts},
};

/// A core client, as commercial extends it: its contracts.
pub struct Client {
    pub id: ID,
}

#[Object]
impl Client {
    async fn id(&self) -> &ID {
        &self.id
    }

    /// The client's contracts, newest first.
    async fn contracts(&self, ctx: &Context<'_>) -> Result<Vec<Contract>> {
        let Ok(id) = parse_id("id", &self.id) else {
            return Ok(Vec::new());
        };
        Ok(loaders::load::<loaders::ClientContractsLoader>(ctx, id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Contract)
            .collect())
    }
}

/// A core société (legal entity), referenced by contracts and sales reps.
pub struct Societe {
    pub id: ID,
}

#[Object]
impl Societe {
    async fn id(&self) -> &ID {
        &self.id
    }
}

/// An agreement with a client: lines of products, dates, a lifecycle.
pub struct Contract(pub ContractRow);

#[Object]
impl Contract {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Unique within the organisation.
    async fn reference(&self) -> &str {
        &self.0.reference
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn client(&self) -> Client {
        Client {
            id: ID(self.0.client_id.to_string()),
        }
    }
    async fn societe(&self) -> Option<Societe> {
        self.0.societe_id.map(|id| Societe {
            id: ID(id.to_string()),
        })
    }
    async fn sales_rep(&self, ctx: &Context<'_>) -> Result<Option<SalesRep>> {
        let Some(id) = self.0.sales_rep_id else {
            return Ok(None);
        };
        Ok(loaders::load::<loaders::SalesRepLoader>(ctx, id)
            .await?
            .map(SalesRep))
    }
    async fn sales_channel(&self) -> Option<&str> {
        self.0.sales_channel.as_deref()
    }
    async fn status(&self) -> ContractStatus {
        self.0.status
    }
    /// The statuses it may move to next.
    async fn next_statuses(&self) -> Vec<ContractStatus> {
        self.0.status.successors().to_vec()
    }
    async fn start_date(&self) -> NaiveDate {
        self.0.start_date
    }
    async fn end_date(&self) -> Option<NaiveDate> {
        self.0.end_date
    }
    async fn signature_date(&self) -> Option<NaiveDate> {
        self.0.signature_date
    }
    async fn billing_frequency(&self) -> BillingFrequency {
        self.0.billing_frequency
    }
    async fn currency(&self) -> &str {
        &self.0.currency
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
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<ContractLine>> {
        Ok(
            loaders::load::<loaders::ContractLinesLoader>(ctx, self.0.id)
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(ContractLine)
                .collect(),
        )
    }
    /// Every status change, oldest first.
    async fn status_history(&self, ctx: &Context<'_>) -> Result<Vec<StatusChange>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let rows = db::contract::history(&state.pool, tenant.organisation_id, self.0.id).await?;
        Ok(rows.into_iter().map(StatusChange).collect())
    }
    /// Commissions earned on it.
    async fn commissions(&self, ctx: &Context<'_>) -> Result<Vec<Commission>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let filter = db::commission::CommissionFilter {
            contract_id: Some(self.0.id),
            ..Default::default()
        };
        let page = PageRequest {
            limit: 100,
            after: None,
        };
        let (rows, _) = db::commission::list_commissions_page(
            &state.pool,
            tenant.organisation_id,
            &filter,
            &page,
        )
        .await?;
        Ok(rows.into_iter().map(Commission).collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A product on a contract, with the price agreed.
pub struct ContractLine(pub LineRow);

#[Object]
impl ContractLine {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn position(&self) -> i32 {
        self.0.position
    }
    async fn product(&self, ctx: &Context<'_>) -> Result<Option<Product>> {
        Ok(
            loaders::load::<loaders::ProductLoader>(ctx, self.0.product_id)
                .await?
                .map(Product),
        )
    }
    async fn contract(&self, ctx: &Context<'_>) -> Result<Option<Contract>> {
        Ok(
            loaders::load::<loaders::ContractLoader>(ctx, self.0.contract_id)
                .await?
                .map(Contract),
        )
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn quantity(&self) -> Decimal {
        self.0.quantity.normalize()
    }
    /// Excl. VAT.
    async fn unit_price(&self) -> Decimal {
        cents(self.0.unit_price)
    }
    async fn vat_rate(&self) -> Decimal {
        self.0.vat_rate.normalize()
    }
    /// How often this line is billed, when not the contract's frequency.
    async fn billing_period(&self) -> Option<BillingFrequency> {
        self.0.billing_period
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

/// One status change of a contract.
pub struct StatusChange(pub HistoryRow);

#[Object]
impl StatusChange {
    /// None for the creation.
    async fn from_status(&self) -> Option<ContractStatus> {
        self.0.from_status
    }
    async fn to_status(&self) -> ContractStatus {
        self.0.to_status
    }
    /// The user, or null when the system did it (expiry).
    async fn changed_by(&self) -> Option<ID> {
        self.0.changed_by.map(|id| ID(id.to_string()))
    }
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
}

#[derive(InputObject)]
pub struct ContractInput {
    pub reference: String,
    pub title: String,
    pub description: Option<String>,
    /// A client of the organisation (core).
    pub client_id: ID,
    pub societe_id: Option<ID>,
    pub sales_rep_id: Option<ID>,
    pub sales_channel: Option<String>,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub billing_frequency: BillingFrequency,
    pub notes: Option<String>,
}

#[derive(InputObject)]
pub struct CreateContractInput {
    #[graphql(flatten)]
    pub contract: ContractInput,
    /// Lines to start with; more can be added while the contract is a draft.
    #[graphql(default)]
    pub lines: Vec<ContractLineInput>,
}

#[derive(InputObject)]
pub struct ContractLineInput {
    pub product_id: ID,
    pub description: Option<String>,
    pub quantity: Decimal,
    /// Excl. VAT; when omitted, the catalogue's price on the contract's start date (grid,
    /// promotion, discount).
    pub unit_price: Option<Decimal>,
    /// When omitted, the product's.
    pub vat_rate: Option<Decimal>,
    pub billing_period: Option<BillingFrequency>,
}

#[derive(InputObject, Default)]
pub struct ContractFilterInput {
    pub status: Option<ContractStatus>,
    pub client_id: Option<ID>,
    pub sales_rep_id: Option<ID>,
    pub societe_id: Option<ID>,
    /// Part of the reference or title.
    pub search: Option<String>,
}

/// Checks a contract's input against the organisation's data.
async fn contract_fields(
    tx: &mut PgConnection,
    org: Uuid,
    input: ContractInput,
) -> Result<ContractFields> {
    if let Some(end) = input.end_date {
        if end < input.start_date {
            return Err(Invalid::new("endDate", "is before startDate").into());
        }
    }
    let client_id = parse_id("clientId", &input.client_id)?;
    if !db::directory::client_exists(&mut *tx, org, client_id).await? {
        return Err(Invalid::new("clientId", "is not a client of the organisation").into());
    }
    let societe_id = parse_opt_id("societeId", input.societe_id.as_ref())?;
    if let Some(id) = societe_id {
        if !db::directory::societe_exists(&mut *tx, org, id).await? {
            return Err(Invalid::new("societeId", "is not a société of the organisation").into());
        }
    }
    let sales_rep_id = parse_opt_id("salesRepId", input.sales_rep_id.as_ref())?;
    if let Some(id) = sales_rep_id {
        match db::sales_rep::find_sales_rep(&mut *tx, org, id).await? {
            Some(rep) if rep.active => {}
            Some(_) => return Err(Invalid::new("salesRepId", "this sales rep is inactive").into()),
            None => {
                return Err(
                    Invalid::new("salesRepId", "is not a sales rep of the organisation").into(),
                )
            }
        }
    }
    Ok(ContractFields {
        reference: clean_text("reference", &input.reference, 100)?,
        title: clean_text("title", &input.title, 200)?,
        description: optional_text("description", input.description.as_deref(), 5000)?,
        client_id,
        societe_id,
        sales_rep_id,
        sales_channel: optional_text("salesChannel", input.sales_channel.as_deref(), 50)?
            .map(|c| c.to_uppercase()),
        start_date: input.start_date,
        end_date: input.end_date,
        billing_frequency: input.billing_frequency,
        notes: optional_text("notes", input.notes.as_deref(), 5000)?,
    })
}

/// Checks a line against the catalogue and prices it.
async fn line_fields(
    tx: &mut PgConnection,
    org: Uuid,
    on: NaiveDate,
    field: &str,
    input: ContractLineInput,
) -> Result<LineFields> {
    let at = |name: &str| format!("{field}.{name}");
    let quantity = parse_quantity(&at("quantity"), input.quantity)?;
    let product_id = parse_id(&at("productId"), &input.product_id)?;
    let product = sellable_product(tx, org, product_id)
        .await
        .map_err(|err| match err {
            Error::Invalid(invalid) => {
                Error::Invalid(Invalid::new(at("productId"), invalid.message))
            }
            other => other,
        })?;
    let vat_rate = VatRate::parse(&at("vatRate"), input.vat_rate.unwrap_or(product.vat_rate))?;
    let unit_price = match input.unit_price {
        Some(price) => parse_amount(&at("unitPrice"), price)?,
        None => {
            let grid = db::catalogue::active_grid(&mut *tx, org, on).await?;
            let grid_price = match grid {
                Some(grid) => db::catalogue::find_grid_price(&mut *tx, org, grid.id, product.id)
                    .await?
                    .map(|p| GridPrice {
                        unit_price: p.unit_price,
                        discount_percent: p.discount_percent,
                        min_price: p.min_price,
                        max_price: p.max_price,
                    }),
                None => None,
            };
            let instant = on.and_time(chrono::NaiveTime::MIN).and_utc();
            calculate_price(&PriceRequest {
                list_price: product.unit_price,
                vat_rate,
                promotion: product
                    .promotion()
                    .filter(|p| p.applies_at(instant))
                    .map(|p| p.price),
                grid: grid_price,
                quantity,
                additional_discount: Decimal::ZERO,
            })
            .unit_price
        }
    };
    Ok(LineFields {
        product_id,
        description: optional_text(&at("description"), input.description.as_deref(), 2000)?,
        quantity,
        unit_price,
        vat_rate: vat_rate.percent(),
        billing_period: input.billing_period,
        totals: Totals::of_line(quantity, unit_price, vat_rate),
    })
}

fn reference_conflict(err: sqlx::Error) -> Error {
    if is_constraint_violation(&err, db::contract::REFERENCE_KEY) {
        Error::conflict("another contract already has this reference")
    } else {
        err.into()
    }
}

/// The contract, locked, provided it is still a draft.
async fn lock_draft(tx: &mut PgConnection, org: Uuid, id: Uuid) -> Result<ContractRow> {
    let contract = db::contract::lock_contract(&mut *tx, org, id)
        .await?
        .ok_or(Error::not_found("contract"))?;
    if !contract.status.is_editable() {
        return Err(Error::InvalidTransition(format!(
            "only a DRAFT contract can be changed; this one is {}",
            contract.status.label()
        )));
    }
    Ok(contract)
}

#[derive(Default)]
pub struct ContractQuery;

#[Object]
impl ContractQuery {
    /// The organisation's contracts, newest first.
    async fn contracts(
        &self,
        ctx: &Context<'_>,
        filter: Option<ContractFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Contract>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let page = PageRequest::parse(first, after)?;
        let f = filter.unwrap_or_default();
        let filter = db::contract::ContractFilter {
            status: f.status,
            client_id: parse_opt_id("filter.clientId", f.client_id.as_ref())?,
            sales_rep_id: parse_opt_id("filter.salesRepId", f.sales_rep_id.as_ref())?,
            societe_id: parse_opt_id("filter.societeId", f.societe_id.as_ref())?,
            search: f
                .search
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
        };
        let (rows, total) =
            db::contract::list_contracts_page(&state.pool, tenant.organisation_id, &filter, &page)
                .await?;
        Ok(build_page(
            &page,
            rows,
            total,
            |r| Keyset::instant(r.created_at, r.id),
            Contract,
        ))
    }

    async fn contract(&self, ctx: &Context<'_>, id: ID) -> Result<Contract> {
        let id = parse_id("id", &id)?;
        loaders::load::<loaders::ContractLoader>(ctx, id)
            .await?
            .map(Contract)
            .ok_or(Error::not_found("contract"))
    }

    async fn contract_by_reference(
        &self,
        ctx: &Context<'_>,
        reference: String,
    ) -> Result<Contract> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        db::contract::find_contract_by_reference(
            &state.pool,
            tenant.organisation_id,
            reference.trim(),
        )
        .await?
        .map(Contract)
        .ok_or(Error::not_found("contract"))
    }
}

#[derive(Default)]
pub struct ContractMutation;

#[Object]
impl ContractMutation {
    /// Creates a DRAFT contract, with its first lines.
    async fn create_contract(
        &self,
        ctx: &Context<'_>,
        input: CreateContractInput,
    ) -> Result<Contract> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let org = tenant.organisation_id;
        let mut tx = state.pool.begin().await?;
        let fields = contract_fields(&mut tx, org, input.contract).await?;
        let mut lines = Vec::with_capacity(input.lines.len());
        for (i, line) in input.lines.into_iter().enumerate() {
            lines.push(
                line_fields(&mut tx, org, fields.start_date, &format!("lines.{i}"), line).await?,
            );
        }
        let contract = db::contract::insert_contract(&mut *tx, org, tenant.user_id, &fields)
            .await
            .map_err(reference_conflict)?;
        for line in &lines {
            db::contract::insert_line(&mut tx, org, contract.id, line).await?;
        }
        let contract = db::contract::refresh_totals(&mut *tx, org, contract.id).await?;
        db::contract::insert_history(
            &mut *tx,
            org,
            contract.id,
            None,
            ContractStatus::Draft,
            Some(tenant.user_id),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(Contract(contract))
    }

    /// Changes a DRAFT contract's fields.
    async fn update_contract(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ContractInput,
    ) -> Result<Contract> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let org = tenant.organisation_id;
        let id = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        lock_draft(&mut tx, org, id).await?;
        let fields = contract_fields(&mut tx, org, input).await?;
        let row = db::contract::update_contract(&mut *tx, org, id, &fields)
            .await
            .map_err(reference_conflict)?;
        tx.commit().await?;
        Ok(Contract(row))
    }

    /// Deletes a DRAFT contract (a signed one is cancelled or terminated instead).
    async fn delete_contract(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let uuid = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        lock_draft(&mut tx, tenant.organisation_id, uuid).await?;
        db::contract::delete_contract(&mut *tx, tenant.organisation_id, uuid).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds a line to a DRAFT contract.
    async fn add_contract_line(
        &self,
        ctx: &Context<'_>,
        contract_id: ID,
        input: ContractLineInput,
    ) -> Result<Contract> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let org = tenant.organisation_id;
        let id = parse_id("contractId", &contract_id)?;
        let mut tx = state.pool.begin().await?;
        let contract = lock_draft(&mut tx, org, id).await?;
        let line = line_fields(&mut tx, org, contract.start_date, "input", input).await?;
        db::contract::insert_line(&mut tx, org, id, &line).await?;
        let row = db::contract::refresh_totals(&mut *tx, org, id).await?;
        tx.commit().await?;
        Ok(Contract(row))
    }

    /// Replaces a line of a DRAFT contract.
    async fn update_contract_line(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ContractLineInput,
    ) -> Result<Contract> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let org = tenant.organisation_id;
        let line_id = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        let line = db::contract::find_line(&mut *tx, org, line_id)
            .await?
            .ok_or(Error::not_found("contract line"))?;
        let contract = lock_draft(&mut tx, org, line.contract_id).await?;
        let fields = line_fields(&mut tx, org, contract.start_date, "input", input).await?;
        db::contract::update_line(&mut *tx, org, line_id, &fields).await?;
        let row = db::contract::refresh_totals(&mut *tx, org, contract.id).await?;
        tx.commit().await?;
        Ok(Contract(row))
    }

    /// Removes a line from a DRAFT contract.
    async fn remove_contract_line(&self, ctx: &Context<'_>, id: ID) -> Result<Contract> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let org = tenant.organisation_id;
        let line_id = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        let line = db::contract::find_line(&mut *tx, org, line_id)
            .await?
            .ok_or(Error::not_found("contract line"))?;
        lock_draft(&mut tx, org, line.contract_id).await?;
        db::contract::delete_line(&mut *tx, org, line_id).await?;
        let row = db::contract::refresh_totals(&mut *tx, org, line.contract_id).await?;
        tx.commit().await?;
        Ok(Contract(row))
    }

    /// DRAFT → SIGNED. Needs at least one line and the signature date (not in the future).
    /// Publishes `contract.signed` and `contract.status_changed`.
    async fn sign_contract(
        &self,
        ctx: &Context<'_>,
        id: ID,
        signature_date: NaiveDate,
    ) -> Result<Contract> {
        if signature_date > Utc::now().date_naive() {
            return Err(Invalid::new("signatureDate", "is in the future").into());
        }
        transition(ctx, &id, ContractStatus::Signed, None, Some(signature_date)).await
    }

    /// SIGNED → ACTIVE, or SUSPENDED → ACTIVE (resumed).
    async fn activate_contract(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: Option<String>,
    ) -> Result<Contract> {
        transition(ctx, &id, ContractStatus::Active, reason, None).await
    }

    /// ACTIVE → SUSPENDED, with a reason.
    async fn suspend_contract(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<Contract> {
        transition(ctx, &id, ContractStatus::Suspended, Some(reason), None).await
    }

    /// ACTIVE or SUSPENDED → TERMINATED (résiliation), with a reason. Commissions earned
    /// within their scale's clawback window are clawed back.
    async fn terminate_contract(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<Contract> {
        transition(ctx, &id, ContractStatus::Terminated, Some(reason), None).await
    }

    /// DRAFT or SIGNED → CANCELLED, with a reason.
    async fn cancel_contract(&self, ctx: &Context<'_>, id: ID, reason: String) -> Result<Contract> {
        transition(ctx, &id, ContractStatus::Cancelled, Some(reason), None).await
    }
}

/// Every user-driven status change: lock, check, change, history, events, one transaction.
async fn transition(
    ctx: &Context<'_>,
    id: &ID,
    to: ContractStatus,
    reason: Option<String>,
    signature_date: Option<NaiveDate>,
) -> Result<Contract> {
    let (state, request) = parts(ctx);
    let tenant: Tenant = request.tenant_with_role(Role::Member)?;
    let org = tenant.organisation_id;
    let id = parse_id("id", id)?;
    let reason = optional_text("reason", reason.as_deref(), 1000)?;
    if matches!(
        to,
        ContractStatus::Suspended | ContractStatus::Terminated | ContractStatus::Cancelled
    ) && reason.is_none()
    {
        return Err(Invalid::new("reason", "must not be empty").into());
    }
    let mut tx = state.pool.begin().await?;
    let contract = db::contract::lock_contract(&mut *tx, org, id)
        .await?
        .ok_or(Error::not_found("contract"))?;
    contract
        .status
        .transition(to)
        .map_err(Error::InvalidTransition)?;
    let lines = db::contract::lines_of_contracts(&mut *tx, org, &[id]).await?;
    if to == ContractStatus::Signed && lines.is_empty() {
        return Err(
            Invalid::new("lines", "a contract needs at least one line to be signed").into(),
        );
    }
    let row = db::contract::set_status(&mut *tx, org, id, to, signature_date).await?;
    let change = db::contract::insert_history(
        &mut *tx,
        org,
        id,
        Some(contract.status),
        to,
        Some(tenant.user_id),
        reason.as_deref(),
    )
    .await?;
    let correlation = Some(request.request_id.as_str());
    if to == ContractStatus::Signed {
        let ids: Vec<Uuid> = lines.iter().map(|l| l.product_id).collect();
        let products = db::catalogue::products_by_ids(&mut *tx, org, &ids).await?;
        events::record(
            &mut tx,
            correlation,
            None,
            CommercialEvent::ContractSigned {
                contract: &row,
                lines: &lines,
                products: &products,
            },
        )
        .await?;
    }
    events::record(
        &mut tx,
        correlation,
        None,
        CommercialEvent::ContractStatusChanged {
            contract: &row,
            change: &change,
        },
    )
    .await?;
    if to == ContractStatus::Terminated {
        let today = Utc::now().date_naive();
        for commission in db::commission::lock_of_contract(&mut *tx, org, id).await? {
            events::claw_back(&mut tx, &commission, ClawbackReason::Termination, today).await?;
        }
    }
    tx.commit().await?;
    Ok(Contract(row))
}
