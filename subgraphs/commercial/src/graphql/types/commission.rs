//! Commissions computed from payments (by the `commercial-payments` consumer) with their
//! clawbacks; validated, paid or cancelled. Changes need the ADMIN role. Their scales are in
//! `scale`.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use subgraph_kit::{
    error::Invalid,
    pagination::{build_page, Keyset, Page, PageRequest},
    Role,
};

use super::{contract::Contract, sales_rep::SalesRep, scale::CommissionScale};
use crate::{
    db::{
        self,
        commission::{ClawbackReason, ClawbackRow, CommissionRow},
    },
    domain::{commission::CommissionStatus, money::cents},
    error::{Error, Result},
    graphql::{loaders, parse_id, parse_opt_id, parts},
};

/// What a sales rep earned on a payment.
pub struct Commission(pub CommissionRow);

#[derive(SimpleObject)]
pub struct Clawback {
    pub reason: ClawbackReason,
    /// Percent of the net.
    pub rate: Decimal,
    pub amount: Decimal,
    pub event_date: NaiveDate,
    pub created_at: DateTime<Utc>,
}

impl From<ClawbackRow> for Clawback {
    fn from(row: ClawbackRow) -> Self {
        Self {
            reason: row.reason,
            rate: row.rate,
            amount: cents(row.amount),
            event_date: row.event_date,
            created_at: row.created_at,
        }
    }
}

#[Object]
impl Commission {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn reference(&self) -> &str {
        &self.0.reference
    }
    async fn sales_rep(&self, ctx: &Context<'_>) -> Result<Option<SalesRep>> {
        Ok(
            loaders::load::<loaders::SalesRepLoader>(ctx, self.0.sales_rep_id)
                .await?
                .map(SalesRep),
        )
    }
    async fn contract(&self, ctx: &Context<'_>) -> Result<Option<Contract>> {
        Ok(
            loaders::load::<loaders::ContractLoader>(ctx, self.0.contract_id)
                .await?
                .map(Contract),
        )
    }
    /// The finance payment it rewards.
    async fn payment_id(&self) -> ID {
        ID(self.0.payment_id.to_string())
    }
    /// The scale version applied.
    async fn scale(&self, ctx: &Context<'_>) -> Result<Option<CommissionScale>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        Ok(
            db::scale::find_scale(&state.pool, tenant.organisation_id, self.0.scale_id)
                .await?
                .map(CommissionScale),
        )
    }
    async fn scale_version(&self) -> i32 {
        self.0.scale_version
    }
    async fn base_amount(&self) -> Decimal {
        cents(self.0.base_amount)
    }
    async fn gross_amount(&self) -> Decimal {
        cents(self.0.gross_amount)
    }
    /// Tier bonuses.
    async fn bonus_amount(&self) -> Decimal {
        cents(self.0.bonus_amount)
    }
    async fn net_amount(&self) -> Decimal {
        cents(self.0.net_amount)
    }
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    /// `YYYY-MM` of the payment.
    async fn period(&self) -> &str {
        &self.0.period
    }
    async fn status(&self) -> CommissionStatus {
        self.0.status
    }
    /// How it was computed: the scale's terms, the payment, the tiers applied.
    async fn details(&self) -> &serde_json::Value {
        &self.0.details
    }
    async fn clawback(&self, ctx: &Context<'_>) -> Result<Option<Clawback>> {
        Ok(loaders::load::<loaders::ClawbackLoader>(ctx, self.0.id)
            .await?
            .map(Clawback::from))
    }
    async fn calculated_at(&self) -> DateTime<Utc> {
        self.0.calculated_at
    }
}

#[derive(InputObject, Default)]
pub struct CommissionFilterInput {
    pub sales_rep_id: Option<ID>,
    pub contract_id: Option<ID>,
    pub status: Option<CommissionStatus>,
    /// `YYYY-MM`.
    pub period: Option<String>,
}

#[derive(Default)]
pub struct CommissionQuery;

#[Object]
impl CommissionQuery {
    /// Commissions, newest first.
    #[graphql(
        complexity = "subgraph_kit::pagination::cost(first, child_complexity)",
        directive = subgraph_kit::cost::paged::apply()
    )]
    async fn commissions(
        &self,
        ctx: &Context<'_>,
        filter: Option<CommissionFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Commission>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let page = PageRequest::parse(first, after)?;
        let f = filter.unwrap_or_default();
        if let Some(period) = &f.period {
            let valid = chrono::NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d")
                .is_ok()
                && period.len() == 7;
            if !valid {
                return Err(Invalid::new("filter.period", "must be YYYY-MM").into());
            }
        }
        let filter = db::commission::CommissionFilter {
            sales_rep_id: parse_opt_id("filter.salesRepId", f.sales_rep_id.as_ref())?,
            contract_id: parse_opt_id("filter.contractId", f.contract_id.as_ref())?,
            status: f.status,
            period: f.period,
        };
        let (rows, total) = db::commission::list_commissions_page(
            &state.pool,
            tenant.organisation_id,
            &filter,
            &page,
        )
        .await?;
        Ok(build_page(
            &page,
            rows,
            total,
            |r| Keyset::instant(r.calculated_at, r.id),
            Commission,
        ))
    }

    async fn commission(&self, ctx: &Context<'_>, id: ID) -> Result<Commission> {
        let id = parse_id("id", &id)?;
        loaders::load::<loaders::CommissionLoader>(ctx, id)
            .await?
            .map(Commission)
            .ok_or(Error::not_found("commission"))
    }
}

#[derive(Default)]
pub struct CommissionMutation;

#[Object]
impl CommissionMutation {
    /// CALCULATED → VALIDATED.
    async fn validate_commission(&self, ctx: &Context<'_>, id: ID) -> Result<Commission> {
        commission_transition(ctx, &id, CommissionStatus::Validated).await
    }

    /// VALIDATED → PAID.
    async fn mark_commission_paid(&self, ctx: &Context<'_>, id: ID) -> Result<Commission> {
        commission_transition(ctx, &id, CommissionStatus::Paid).await
    }

    /// CALCULATED or VALIDATED → CANCELLED.
    async fn cancel_commission(&self, ctx: &Context<'_>, id: ID) -> Result<Commission> {
        commission_transition(ctx, &id, CommissionStatus::Cancelled).await
    }
}

async fn commission_transition(
    ctx: &Context<'_>,
    id: &ID,
    to: CommissionStatus,
) -> Result<Commission> {
    let (state, request) = parts(ctx);
    let tenant = request.tenant_with_role(Role::Admin)?;
    let org = tenant.organisation_id;
    let id = parse_id("id", id)?;
    let mut tx = state.pool.begin().await?;
    let current = db::commission::lock_commission(&mut *tx, org, id)
        .await?
        .ok_or(Error::not_found("commission"))?;
    current
        .status
        .transition(to)
        .map_err(Error::InvalidTransition)?;
    let row = db::commission::set_status(&mut *tx, org, id, to).await?;
    tx.commit().await?;
    Ok(Commission(row))
}
