//! Contracts: created as drafts with lines, signed, activated, suspended, terminated or
//! cancelled through guarded transitions that write history and publish events; and the
//! `Client.contracts` commercial adds to core's Client. Changes need the MEMBER role.

use async_graphql::{Context, Object, ID};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use subgraph_kit::{
    error::{Invalid, ResultExt},
    pagination::{build_page, Keyset, Page, PageRequest},
    Role,
};

use super::{
    catalogue::Product,
    commission::Commission,
    contract_input::{
        contract_fields, line_fields, lock_draft, reference_conflict, ContractFilterInput,
        ContractInput, ContractLineInput, CreateContractInput,
    },
    entities::{Client, Societe},
    sales_rep::SalesRep,
};
use crate::{
    db::{
        self,
        contract::{ContractRow, HistoryRow, LineRow},
    },
    domain::money::cents,
    domain::{
        contract::{BillingFrequency, ContractStatus},
        optional_text,
    },
    error::{Error, Result},
    graphql::{loaders, parse_id, parse_opt_id, parts},
    ops::{self, contract::Transition},
};

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
    #[graphql(directive = subgraph_kit::cost::at_most::apply(10))]
    async fn status_history(&self, ctx: &Context<'_>) -> Result<Vec<StatusChange>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let rows = db::contract::history(&state.pool, tenant.organisation_id, self.0.id).await?;
        Ok(rows.into_iter().map(StatusChange).collect())
    }
    /// Commissions earned on it.
    #[graphql(directive = subgraph_kit::cost::at_most::apply(5))]
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

#[derive(Default)]
pub struct ContractQuery;

#[Object]
impl ContractQuery {
    /// The organisation's contracts, newest first.
    #[graphql(
        complexity = "subgraph_kit::pagination::cost(first, child_complexity)",
        directive = subgraph_kit::cost::paged::apply()
    )]
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

/// The refusal of a line beyond [`db::contract::MAX_LINES`].
fn too_many_lines(field: &str) -> Error {
    Error::invalid(
        field,
        format!("a contract has at most {} lines", db::contract::MAX_LINES),
    )
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
        if input.lines.len() > db::contract::MAX_LINES {
            return Err(too_many_lines("lines"));
        }
        let mut tx = state.pool.begin().await?;
        let fields = contract_fields(&mut tx, (state, request), org, input.contract).await?;
        let mut lines = Vec::with_capacity(input.lines.len());
        for (i, line) in input.lines.into_iter().enumerate() {
            lines.push(
                line_fields(&mut tx, org, fields.start_date, &format!("lines.{i}"), line).await?,
            );
        }
        let contract = db::contract::insert_contract(&mut *tx, org, tenant.user_id, &fields)
            .await
            .on_constraint(db::contract::REFERENCE_KEY, reference_conflict)?;
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
        let fields = contract_fields(&mut tx, (state, request), org, input).await?;
        let row = db::contract::update_contract(&mut *tx, org, id, &fields)
            .await
            .on_constraint(db::contract::REFERENCE_KEY, reference_conflict)?;
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
        if db::contract::count_lines(&mut *tx, org, id).await? >= db::contract::MAX_LINES {
            return Err(too_many_lines("contractId"));
        }
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

/// Every user-driven status change: lock, then the one transition operation.
async fn transition(
    ctx: &Context<'_>,
    id: &ID,
    to: ContractStatus,
    reason: Option<String>,
    signature_date: Option<NaiveDate>,
) -> Result<Contract> {
    let (state, request) = parts(ctx);
    let tenant = request.tenant_with_role(Role::Member)?;
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
    let change = Transition {
        to,
        reason,
        signature_date,
        by: Some(tenant.user_id),
        correlation_id: Some(request.request_id.as_str()),
    };
    let row = ops::contract::transition(&mut tx, &contract, change).await?;
    tx.commit().await?;
    Ok(Contract(row))
}
