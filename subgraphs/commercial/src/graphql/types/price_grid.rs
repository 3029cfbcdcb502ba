//! Price grids (a price and a discount per product, valid between two dates) and the price
//! calculation. Reads are open to every member; changes need the ADMIN role.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use subgraph_kit::{error::Invalid, Role};

use super::catalogue::{name_conflict, Product};
use crate::{
    db::{
        self,
        price_grid::{GridFields, GridPriceRow, GridRow},
    },
    domain::{
        clean_text,
        money::{cents, parse_amount, parse_percent, parse_quantity, VatRate},
        optional_text,
        product::GridPrice,
    },
    error::{Error, Result},
    graphql::{loaders, parse_id, parse_opt_id, parts},
    ops::pricing::{price_product, PriceInput, Priced},
};

/// A price list: a price and a discount per product, valid between two dates.
pub struct PriceGrid(pub GridRow);

#[Object]
impl PriceGrid {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn valid_from(&self) -> Option<NaiveDate> {
        self.0.valid_from
    }
    async fn valid_to(&self) -> Option<NaiveDate> {
        self.0.valid_to
    }
    /// The grid used when no other is in force.
    async fn is_default(&self) -> bool {
        self.0.is_default
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn prices(&self, ctx: &Context<'_>) -> Result<Vec<GridProductPrice>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let rows =
            db::price_grid::grid_prices(&state.pool, tenant.organisation_id, self.0.id).await?;
        Ok(rows.into_iter().map(GridProductPrice).collect())
    }
}

/// A product's price in a grid.
pub struct GridProductPrice(pub GridPriceRow);

#[Object]
impl GridProductPrice {
    async fn product(&self, ctx: &Context<'_>) -> Result<Option<Product>> {
        Ok(
            loaders::load::<loaders::ProductLoader>(ctx, self.0.product_id)
                .await?
                .map(Product),
        )
    }
    async fn unit_price(&self) -> Decimal {
        cents(self.0.unit_price)
    }
    async fn discount_percent(&self) -> Decimal {
        self.0.discount_percent.normalize()
    }
    async fn min_price(&self) -> Option<Decimal> {
        self.0.min_price.map(cents)
    }
    async fn max_price(&self) -> Option<Decimal> {
        self.0.max_price.map(cents)
    }
}

/// A price, exact to the cent.
#[derive(SimpleObject)]
pub struct PriceQuote {
    /// Before discounts: the grid price, else the list price; a promotion in force replaces it.
    pub base_unit_price: Decimal,
    pub promotion_applied: bool,
    /// The grid in force, if any.
    pub grid_id: Option<ID>,
    /// Grid discount plus the additional one (at most 100).
    pub discount_percent: Decimal,
    /// After discounts and the grid's min/max.
    pub unit_price: Decimal,
    pub quantity: Decimal,
    pub vat_rate: Decimal,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
}

#[derive(InputObject)]
pub struct PriceGridInput {
    pub name: String,
    pub description: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    #[graphql(default = true)]
    pub active: bool,
}

impl PriceGridInput {
    fn parse(self) -> Result<GridFields, Invalid> {
        if let (Some(from), Some(to)) = (self.valid_from, self.valid_to) {
            if to < from {
                return Err(Invalid::new("validTo", "is before validFrom"));
            }
        }
        Ok(GridFields {
            name: clean_text("name", &self.name, 200)?,
            description: optional_text("description", self.description.as_deref(), 2000)?,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            active: self.active,
        })
    }
}

#[derive(InputObject)]
pub struct SetGridPriceInput {
    pub grid_id: ID,
    pub product_id: ID,
    pub unit_price: Decimal,
    #[graphql(default)]
    pub discount_percent: Decimal,
    pub min_price: Option<Decimal>,
    pub max_price: Option<Decimal>,
}

impl SetGridPriceInput {
    fn parse(&self) -> Result<GridPrice, Invalid> {
        let min_price = self
            .min_price
            .map(|m| parse_amount("minPrice", m))
            .transpose()?;
        let max_price = self
            .max_price
            .map(|m| parse_amount("maxPrice", m))
            .transpose()?;
        if let (Some(min), Some(max)) = (min_price, max_price) {
            if min > max {
                return Err(Invalid::new("maxPrice", "is below minPrice"));
            }
        }
        Ok(GridPrice {
            unit_price: parse_amount("unitPrice", self.unit_price)?,
            discount_percent: parse_percent("discountPercent", self.discount_percent)?,
            min_price,
            max_price,
        })
    }
}

#[derive(InputObject)]
pub struct CalculatePriceInput {
    pub product_id: ID,
    /// A grid to use; otherwise the grid in force on `on`.
    pub grid_id: Option<ID>,
    #[graphql(default_with = "Decimal::ONE")]
    pub quantity: Decimal,
    /// A discount on top of the grid's, in percent.
    #[graphql(default)]
    pub additional_discount_percent: Decimal,
    /// The day priced (grid validity, promotion); today when omitted.
    pub on: Option<DateTime<Utc>>,
}

#[derive(Default)]
pub struct PriceGridQuery;

#[Object]
impl PriceGridQuery {
    /// Grids, the default first.
    async fn price_grids(&self, ctx: &Context<'_>) -> Result<Vec<PriceGrid>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let rows = db::price_grid::list_grids(&state.pool, tenant.organisation_id).await?;
        Ok(rows.into_iter().map(PriceGrid).collect())
    }

    async fn price_grid(&self, ctx: &Context<'_>, id: ID) -> Result<PriceGrid> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let id = parse_id("id", &id)?;
        db::price_grid::find_grid(&state.pool, tenant.organisation_id, id)
            .await?
            .map(PriceGrid)
            .ok_or(Error::not_found("price grid"))
    }

    /// The grid in force on a day (today by default): active and within its dates, the
    /// default first, then the newest; else the default grid.
    async fn active_price_grid(
        &self,
        ctx: &Context<'_>,
        on: Option<NaiveDate>,
    ) -> Result<Option<PriceGrid>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let on = on.unwrap_or_else(|| Utc::now().date_naive());
        Ok(
            db::price_grid::active_grid(&state.pool, tenant.organisation_id, on)
                .await?
                .map(PriceGrid),
        )
    }

    /// Prices a quantity of a product: grid price, promotion, discounts, clamp, totals.
    async fn calculate_price(
        &self,
        ctx: &Context<'_>,
        input: CalculatePriceInput,
    ) -> Result<PriceQuote> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let org = tenant.organisation_id;
        let quantity = parse_quantity("quantity", input.quantity)?;
        let additional = parse_percent(
            "additionalDiscountPercent",
            input.additional_discount_percent,
        )?;
        let product_id = parse_id("productId", &input.product_id)?;
        let product = db::catalogue::find_product(&state.pool, org, product_id)
            .await?
            .ok_or(Error::not_found("product"))?;
        let vat_rate = VatRate::parse("vatRate", product.vat_rate)?;
        let mut conn = state.pool.acquire().await?;
        let Priced { grid, quote } = price_product(
            &mut conn,
            &product,
            PriceInput {
                grid_id: parse_opt_id("gridId", input.grid_id.as_ref())?,
                at: input.on.unwrap_or_else(Utc::now),
                quantity,
                additional_discount: additional,
                vat_rate,
            },
        )
        .await?;
        Ok(PriceQuote {
            base_unit_price: cents(quote.base_unit_price),
            promotion_applied: quote.promotion_applied,
            grid_id: grid.map(|g| ID(g.id.to_string())),
            discount_percent: quote.discount_percent.normalize(),
            unit_price: cents(quote.unit_price),
            quantity: quote.quantity,
            vat_rate: vat_rate.percent(),
            total_excl_vat: cents(quote.totals.excl_vat),
            total_vat: cents(quote.totals.vat),
            total_incl_vat: cents(quote.totals.incl_vat),
        })
    }
}

#[derive(Default)]
pub struct PriceGridMutation;

#[Object]
impl PriceGridMutation {
    async fn create_price_grid(
        &self,
        ctx: &Context<'_>,
        input: PriceGridInput,
    ) -> Result<PriceGrid> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let fields = input.parse()?;
        db::price_grid::insert_grid(&state.pool, tenant.organisation_id, &fields)
            .await
            .map(PriceGrid)
            .map_err(name_conflict(db::price_grid::GRID_NAME_KEY, "price grid"))
    }

    async fn update_price_grid(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: PriceGridInput,
    ) -> Result<PriceGrid> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let fields = input.parse()?;
        db::price_grid::update_grid(&state.pool, tenant.organisation_id, id, &fields)
            .await
            .map_err(name_conflict(db::price_grid::GRID_NAME_KEY, "price grid"))?
            .map(PriceGrid)
            .ok_or(Error::not_found("price grid"))
    }

    /// Makes a grid the organisation's default (the previous default stops being one).
    async fn set_default_price_grid(&self, ctx: &Context<'_>, id: ID) -> Result<PriceGrid> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        // Serialise default changes of one organisation (the partial unique index would
        // otherwise refuse one of two concurrent calls).
        sqlx::query("select pg_advisory_xact_lock(hashtextextended($1::text, 7))")
            .bind(tenant.organisation_id)
            .execute(&mut *tx)
            .await?;
        let row = db::price_grid::set_default_grid(&mut tx, tenant.organisation_id, id)
            .await?
            .ok_or(Error::not_found("price grid"))?;
        tx.commit().await?;
        Ok(PriceGrid(row))
    }

    /// Sets (or replaces) a product's price in a grid.
    async fn set_grid_price(
        &self,
        ctx: &Context<'_>,
        input: SetGridPriceInput,
    ) -> Result<GridProductPrice> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let org = tenant.organisation_id;
        let price = input.parse()?;
        let grid_id = parse_id("gridId", &input.grid_id)?;
        let product_id = parse_id("productId", &input.product_id)?;
        db::price_grid::find_grid(&state.pool, org, grid_id)
            .await?
            .ok_or(Error::not_found("price grid"))?;
        db::catalogue::find_product(&state.pool, org, product_id)
            .await?
            .ok_or(Error::not_found("product"))?;
        let row = db::price_grid::upsert_grid_price(&state.pool, org, grid_id, product_id, &price)
            .await?;
        Ok(GridProductPrice(row))
    }

    async fn remove_grid_price(
        &self,
        ctx: &Context<'_>,
        grid_id: ID,
        product_id: ID,
    ) -> Result<bool> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let grid = parse_id("gridId", &grid_id)?;
        let product = parse_id("productId", &product_id)?;
        if db::price_grid::delete_grid_price(&state.pool, tenant.organisation_id, grid, product)
            .await?
        {
            Ok(true)
        } else {
            Err(Error::not_found("grid price"))
        }
    }
}
