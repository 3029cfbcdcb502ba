//! Commission scales (barèmes) in immutable versions with their tiers: a revision closes the
//! previous version and opens the next. Changes need the ADMIN role.

use async_graphql::{Context, InputObject, Object, ID};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use subgraph_kit::{
    error::{is_constraint_violation, Invalid},
    server::RequestContext,
    Role,
};

use super::entities::Societe;
use crate::{
    db::{
        self,
        scale::{ScaleRow, ScaleTerms, TierRow},
    },
    domain::money::cents,
    domain::{
        clean_text,
        commission::{Calculation, CommissionBase, Tier},
        money::{parse_amount, parse_percent},
        optional_text,
        product::ProductCategory,
    },
    error::{Error, Result},
    graphql::{parse_id, parse_opt_id, parts, CommercialState},
};

/// One version of a commission scale. Versions never change: a revision creates the next.
pub struct CommissionScale(pub ScaleRow);

#[Object]
impl CommissionScale {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Shared by every version of the scale.
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn calculation(&self) -> Calculation {
        self.0.calculation
    }
    async fn base(&self) -> CommissionBase {
        self.0.base
    }
    /// Percent of the base.
    async fn rate(&self) -> Option<Decimal> {
        self.0.rate
    }
    async fn fixed_amount(&self) -> Option<Decimal> {
        self.0.fixed_amount.map(cents)
    }
    /// Filter: null means any.
    async fn product_category(&self) -> Option<ProductCategory> {
        self.0.product_category
    }
    /// Filter: null means any.
    async fn societe(&self) -> Option<Societe> {
        self.0.societe_id.map(|id| Societe {
            id: ID(id.to_string()),
        })
    }
    /// Filter: null means any.
    async fn sales_channel(&self) -> Option<&str> {
        self.0.sales_channel.as_deref()
    }
    /// Months after calculation during which a termination or final rejection claws back.
    async fn clawback_months(&self) -> i32 {
        self.0.clawback_months
    }
    /// Percent of the net clawed back.
    async fn clawback_rate(&self) -> Decimal {
        self.0.clawback_rate
    }
    async fn effective_from(&self) -> NaiveDate {
        self.0.effective_from
    }
    async fn effective_to(&self) -> Option<NaiveDate> {
        self.0.effective_to
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Why this version was created.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn created_by(&self) -> ID {
        ID(self.0.created_by.to_string())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn tiers(&self, ctx: &Context<'_>) -> Result<Vec<CommissionTier>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let rows = db::scale::tiers(&state.pool, tenant.organisation_id, &[self.0.id]).await?;
        Ok(rows.into_iter().map(CommissionTier).collect())
    }
}

/// A bonus for a base within thresholds.
pub struct CommissionTier(pub TierRow);

#[Object]
impl CommissionTier {
    async fn threshold_min(&self) -> Decimal {
        cents(self.0.threshold_min)
    }
    /// Null: no upper bound.
    async fn threshold_max(&self) -> Option<Decimal> {
        self.0.threshold_max.map(cents)
    }
    async fn bonus(&self) -> Decimal {
        cents(self.0.bonus)
    }
}

#[derive(InputObject)]
pub struct TierInput {
    pub threshold_min: Decimal,
    pub threshold_max: Option<Decimal>,
    pub bonus: Decimal,
}

/// The terms of a scale version.
#[derive(InputObject)]
pub struct CommissionScaleTermsInput {
    pub name: String,
    pub description: Option<String>,
    pub calculation: Calculation,
    pub base: CommissionBase,
    /// Percent of the base (PERCENTAGE, MIXED).
    pub rate: Option<Decimal>,
    /// FIXED, MIXED.
    pub fixed_amount: Option<Decimal>,
    pub product_category: Option<ProductCategory>,
    pub societe_id: Option<ID>,
    pub sales_channel: Option<String>,
    #[graphql(default = 3)]
    pub clawback_months: i32,
    #[graphql(default_with = "Decimal::ONE_HUNDRED")]
    pub clawback_rate: Decimal,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
    #[graphql(default)]
    pub tiers: Vec<TierInput>,
}

async fn scale_terms(
    (state, request): (&CommercialState, &RequestContext),
    org: uuid::Uuid,
    input: CommissionScaleTermsInput,
) -> Result<ScaleTerms> {
    let rate = input.rate.map(|r| parse_percent("rate", r)).transpose()?;
    let fixed_amount = input
        .fixed_amount
        .map(|a| parse_amount("fixedAmount", a))
        .transpose()?;
    match input.calculation {
        Calculation::Fixed if fixed_amount.is_none() => {
            return Err(Invalid::new("fixedAmount", "a FIXED scale needs a fixed amount").into())
        }
        Calculation::Percentage | Calculation::Mixed if rate.is_none() => {
            return Err(Invalid::new("rate", "this calculation needs a rate").into())
        }
        Calculation::Mixed if fixed_amount.is_none() => {
            return Err(Invalid::new("fixedAmount", "a MIXED scale needs a fixed amount").into())
        }
        _ => {}
    }
    if input.base == CommissionBase::Flat && input.calculation != Calculation::Fixed {
        return Err(Invalid::new("base", "a FLAT base goes with a FIXED calculation").into());
    }
    if !(0..=120).contains(&input.clawback_months) {
        return Err(Invalid::new("clawbackMonths", "must be between 0 and 120").into());
    }
    if input
        .effective_to
        .is_some_and(|to| to < input.effective_from)
    {
        return Err(Invalid::new("effectiveTo", "is before effectiveFrom").into());
    }
    let societe_id = parse_opt_id("societeId", input.societe_id.as_ref())?;
    if let Some(id) = societe_id {
        let mut conn = state.pool.acquire().await?;
        if !state
            .directory
            .has_societe(&mut conn, request, org, id)
            .await?
        {
            return Err(Invalid::new("societeId", "is not a société of the organisation").into());
        }
    }
    let mut tiers = Vec::with_capacity(input.tiers.len());
    for (i, tier) in input.tiers.into_iter().enumerate() {
        let field = |name: &str| format!("tiers.{i}.{name}");
        let min = parse_amount(&field("thresholdMin"), tier.threshold_min)?;
        let max = tier
            .threshold_max
            .map(|m| parse_amount(&field("thresholdMax"), m))
            .transpose()?;
        if max.is_some_and(|max| max < min) {
            return Err(Invalid::new(field("thresholdMax"), "is below thresholdMin").into());
        }
        tiers.push(Tier {
            min,
            max,
            bonus: parse_amount(&field("bonus"), tier.bonus)?,
        });
    }
    Ok(ScaleTerms {
        name: clean_text("name", &input.name, 200)?,
        description: optional_text("description", input.description.as_deref(), 2000)?,
        calculation: input.calculation,
        base: input.base,
        rate,
        fixed_amount,
        product_category: input.product_category,
        societe_id,
        sales_channel: optional_text("salesChannel", input.sales_channel.as_deref(), 50)?
            .map(|c| c.to_uppercase()),
        clawback_months: input.clawback_months,
        clawback_rate: parse_percent("clawbackRate", input.clawback_rate)?,
        effective_from: input.effective_from,
        effective_to: input.effective_to,
        tiers,
    })
}

fn overlap_conflict(err: sqlx::Error) -> Error {
    if is_constraint_violation(&err, db::scale::NO_OVERLAP) {
        Error::conflict("the dates overlap another version of this scale")
    } else if is_constraint_violation(&err, db::scale::VERSION_KEY) {
        Error::conflict("a scale with this code exists: revise it instead")
    } else {
        err.into()
    }
}

#[derive(Default)]
pub struct ScaleQuery;

#[Object]
impl ScaleQuery {
    /// Scale versions by code, latest version first.
    async fn commission_scales(
        &self,
        ctx: &Context<'_>,
        code: Option<String>,
        active: Option<bool>,
    ) -> Result<Vec<CommissionScale>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let rows = db::scale::list_scales(
            &state.pool,
            tenant.organisation_id,
            code.as_deref().map(str::trim),
            active,
        )
        .await?;
        Ok(rows.into_iter().map(CommissionScale).collect())
    }

    async fn commission_scale(&self, ctx: &Context<'_>, id: ID) -> Result<CommissionScale> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let id = parse_id("id", &id)?;
        db::scale::find_scale(&state.pool, tenant.organisation_id, id)
            .await?
            .map(CommissionScale)
            .ok_or(Error::not_found("commission scale"))
    }
}

#[derive(Default)]
pub struct ScaleMutation;

#[Object]
impl ScaleMutation {
    /// Creates version 1 of a new scale.
    async fn create_commission_scale(
        &self,
        ctx: &Context<'_>,
        code: String,
        input: CommissionScaleTermsInput,
    ) -> Result<CommissionScale> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let org = tenant.organisation_id;
        let code = clean_text("code", &code, 50)?.to_uppercase();
        let terms = scale_terms((state, request), org, input).await?;
        let mut tx = state.pool.begin().await?;
        if !db::scale::lock_versions(&mut *tx, org, &code)
            .await?
            .is_empty()
        {
            return Err(Error::conflict(
                "a scale with this code exists: revise it instead",
            ));
        }
        let row = db::scale::insert_version(&mut tx, org, &code, 1, &terms, tenant.user_id, None)
            .await
            .map_err(overlap_conflict)?;
        tx.commit().await?;
        Ok(CommissionScale(row))
    }

    /// Creates the next version of a scale, effective from a later date than the current
    /// one, which then ends the day before. Earlier versions, and the commissions computed
    /// with them, stay as they were.
    async fn revise_commission_scale(
        &self,
        ctx: &Context<'_>,
        code: String,
        input: CommissionScaleTermsInput,
        reason: String,
    ) -> Result<CommissionScale> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let org = tenant.organisation_id;
        let code = clean_text("code", &code, 50)?.to_uppercase();
        let reason = clean_text("reason", &reason, 1000)?;
        let terms = scale_terms((state, request), org, input).await?;
        let mut tx = state.pool.begin().await?;
        let versions = db::scale::lock_versions(&mut *tx, org, &code).await?;
        let latest = versions
            .first()
            .ok_or(Error::not_found("commission scale"))?;
        if terms.effective_from <= latest.effective_from {
            return Err(Error::conflict(format!(
                "the new version must start after version {} ({})",
                latest.version, latest.effective_from
            )));
        }
        if latest
            .effective_to
            .is_none_or(|to| to >= terms.effective_from)
        {
            let day_before = terms.effective_from - chrono::Days::new(1);
            db::scale::close_version(&mut *tx, org, latest.id, day_before).await?;
        }
        let row = db::scale::insert_version(
            &mut tx,
            org,
            &code,
            latest.version + 1,
            &terms,
            tenant.user_id,
            Some(&reason),
        )
        .await
        .map_err(overlap_conflict)?;
        tx.commit().await?;
        Ok(CommissionScale(row))
    }

    /// Turns a scale version on or off for future payments.
    async fn set_commission_scale_active(
        &self,
        ctx: &Context<'_>,
        id: ID,
        active: bool,
    ) -> Result<CommissionScale> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let id = parse_id("id", &id)?;
        db::scale::set_active(&state.pool, tenant.organisation_id, id, active)
            .await?
            .map(CommissionScale)
            .ok_or(Error::not_found("commission scale"))
    }
}
