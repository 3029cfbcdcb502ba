//! The catalogue: product ranges, products (lifecycle, promotion), price grids and the price
//! calculation. Reads are open to every member; changes need the ADMIN role.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use subgraph_kit::{
    error::{is_constraint_violation, Invalid},
    pagination::{build_page, Keyset, Page, PageRequest},
    Role,
};
use uuid::Uuid;

use crate::{
    db::{
        self,
        catalogue::{
            GridFields, GridPriceRow, GridRow, ProductFields, ProductRow, RangeFields, RangeRow,
        },
    },
    domain::money::cents,
    domain::{
        clean_text,
        money::{parse_amount, parse_percent, parse_quantity, VatRate},
        optional_text,
        product::{
            calculate_price, GridPrice, PriceRequest, ProductCategory, ProductKind, ProductStatus,
            Promotion,
        },
    },
    error::{Error, Result},
    graphql::{loaders, parse_id, parse_opt_id, parts},
};

/// A product range (gamme).
pub struct ProductRange(pub RangeRow);

#[Object]
impl ProductRange {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Display order.
    async fn position(&self) -> i32 {
        self.0.position
    }
    async fn active(&self) -> bool {
        self.0.active
    }
}

/// A product's promotion.
#[derive(SimpleObject)]
pub struct ProductPromotion {
    pub price: Decimal,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// In force now.
    pub active: bool,
}

/// Something the organisation sells.
pub struct Product(pub ProductRow);

#[Object]
impl Product {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Unique within the organisation.
    async fn sku(&self) -> &str {
        &self.0.sku
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn category(&self) -> ProductCategory {
        self.0.category
    }
    async fn kind(&self) -> ProductKind {
        self.0.kind
    }
    /// List price per unit, excl. VAT.
    async fn unit_price(&self) -> Decimal {
        cents(self.0.unit_price)
    }
    /// VAT rate in percent.
    async fn vat_rate(&self) -> Decimal {
        self.0.vat_rate.normalize()
    }
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    async fn status(&self) -> ProductStatus {
        self.0.status
    }
    /// The statuses it may move to next.
    async fn next_statuses(&self) -> Vec<ProductStatus> {
        self.0.status.successors().to_vec()
    }
    async fn promotion(&self) -> Option<ProductPromotion> {
        self.0.promotion().map(|p| ProductPromotion {
            price: p.price,
            starts_at: p.starts_at,
            ends_at: p.ends_at,
            active: p.applies_at(Utc::now()),
        })
    }
    async fn range(&self, ctx: &Context<'_>) -> Result<Option<ProductRange>> {
        let Some(id) = self.0.range_id else {
            return Ok(None);
        };
        Ok(loaders::load::<loaders::RangeLoader>(ctx, id)
            .await?
            .map(ProductRange))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

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
            db::catalogue::grid_prices(&state.pool, tenant.organisation_id, self.0.id).await?;
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
pub struct ProductRangeInput {
    pub name: String,
    pub code: Option<String>,
    pub description: Option<String>,
    #[graphql(default)]
    pub position: i32,
    #[graphql(default = true)]
    pub active: bool,
}

impl ProductRangeInput {
    fn parse(self) -> Result<RangeFields, Invalid> {
        Ok(RangeFields {
            name: clean_text("name", &self.name, 200)?,
            code: optional_text("code", self.code.as_deref(), 50)?,
            description: optional_text("description", self.description.as_deref(), 2000)?,
            position: self.position,
            active: self.active,
        })
    }
}

#[derive(InputObject)]
pub struct ProductInput {
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub range_id: Option<ID>,
    #[graphql(default_with = "ProductCategory::Service")]
    pub category: ProductCategory,
    #[graphql(default_with = "ProductKind::Internal")]
    pub kind: ProductKind,
    /// Excl. VAT, at most two decimals.
    pub unit_price: Decimal,
    /// 20, 10, 5.5, 2.1 or 0.
    pub vat_rate: Decimal,
    #[graphql(default = "EUR")]
    pub currency: String,
}

impl ProductInput {
    fn parse(self) -> Result<ProductFields, Error> {
        let currency = self.currency.trim().to_uppercase();
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(Invalid::new("currency", "must be an ISO 4217 code such as EUR").into());
        }
        Ok(ProductFields {
            range_id: parse_opt_id("rangeId", self.range_id.as_ref())?,
            sku: clean_text("sku", &self.sku, 50)?,
            name: clean_text("name", &self.name, 200)?,
            description: optional_text("description", self.description.as_deref(), 5000)?,
            category: self.category,
            kind: self.kind,
            unit_price: parse_amount("unitPrice", self.unit_price)?,
            vat_rate: VatRate::parse("vatRate", self.vat_rate)?.percent(),
            currency,
        })
    }
}

#[derive(InputObject)]
pub struct PromotionInput {
    pub price: Decimal,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
}

#[derive(InputObject, Default)]
pub struct ProductFilterInput {
    pub status: Option<ProductStatus>,
    pub category: Option<ProductCategory>,
    pub range_id: Option<ID>,
    /// Part of the name or SKU.
    pub search: Option<String>,
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
pub struct CatalogueQuery;

#[Object]
impl CatalogueQuery {
    async fn product_ranges(&self, ctx: &Context<'_>) -> Result<Vec<ProductRange>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let rows = db::catalogue::list_ranges(&state.pool, tenant.organisation_id).await?;
        Ok(rows.into_iter().map(ProductRange).collect())
    }

    /// The organisation's products by name.
    async fn products(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProductFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Product>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let page = PageRequest::parse(first, after)?;
        let f = filter.unwrap_or_default();
        let filter = db::catalogue::ProductFilter {
            status: f.status,
            category: f.category,
            range_id: parse_opt_id("filter.rangeId", f.range_id.as_ref())?,
            search: f
                .search
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty()),
        };
        let (rows, total) =
            db::catalogue::list_products_page(&state.pool, tenant.organisation_id, &filter, &page)
                .await?;
        Ok(build_page(
            &page,
            rows,
            total,
            |r| Keyset {
                key: serde_json::Value::String(r.name.clone()),
                id: r.id,
            },
            Product,
        ))
    }

    async fn product(&self, ctx: &Context<'_>, id: ID) -> Result<Product> {
        let id = parse_id("id", &id)?;
        loaders::load::<loaders::ProductLoader>(ctx, id)
            .await?
            .map(Product)
            .ok_or(Error::not_found("product"))
    }

    async fn product_by_sku(&self, ctx: &Context<'_>, sku: String) -> Result<Product> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        db::catalogue::find_product_by_sku(&state.pool, tenant.organisation_id, sku.trim())
            .await?
            .map(Product)
            .ok_or(Error::not_found("product"))
    }

    /// Grids, the default first.
    async fn price_grids(&self, ctx: &Context<'_>) -> Result<Vec<PriceGrid>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let rows = db::catalogue::list_grids(&state.pool, tenant.organisation_id).await?;
        Ok(rows.into_iter().map(PriceGrid).collect())
    }

    async fn price_grid(&self, ctx: &Context<'_>, id: ID) -> Result<PriceGrid> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let id = parse_id("id", &id)?;
        db::catalogue::find_grid(&state.pool, tenant.organisation_id, id)
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
            db::catalogue::active_grid(&state.pool, tenant.organisation_id, on)
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
        let at = input.on.unwrap_or_else(Utc::now);
        let grid = match parse_opt_id("gridId", input.grid_id.as_ref())? {
            Some(id) => Some(
                db::catalogue::find_grid(&state.pool, org, id)
                    .await?
                    .ok_or(Error::not_found("price grid"))?,
            ),
            None => db::catalogue::active_grid(&state.pool, org, at.date_naive()).await?,
        };
        let grid_price = match &grid {
            Some(grid) => db::catalogue::find_grid_price(&state.pool, org, grid.id, product.id)
                .await?
                .map(|p| GridPrice {
                    unit_price: p.unit_price,
                    discount_percent: p.discount_percent,
                    min_price: p.min_price,
                    max_price: p.max_price,
                }),
            None => None,
        };
        let vat_rate = VatRate::parse("vatRate", product.vat_rate)?;
        let quote = calculate_price(&PriceRequest {
            list_price: product.unit_price,
            vat_rate,
            promotion: product
                .promotion()
                .filter(|p| p.applies_at(at))
                .map(|p| p.price),
            grid: grid_price,
            quantity,
            additional_discount: additional,
        });
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

fn sku_conflict(err: sqlx::Error) -> Error {
    if is_constraint_violation(&err, db::catalogue::PRODUCT_SKU_KEY) {
        Error::conflict("another product already has this SKU")
    } else if is_constraint_violation(&err, db::catalogue::PRODUCT_RANGE_FK) {
        Error::Invalid(Invalid::new(
            "rangeId",
            "is not a range of the organisation",
        ))
    } else {
        err.into()
    }
}

fn name_conflict(constraint: &'static str, what: &'static str) -> impl Fn(sqlx::Error) -> Error {
    move |err| {
        if is_constraint_violation(&err, constraint) {
            Error::conflict(format!("another {what} already has this name"))
        } else {
            err.into()
        }
    }
}

#[derive(Default)]
pub struct CatalogueMutation;

#[Object]
impl CatalogueMutation {
    async fn create_product_range(
        &self,
        ctx: &Context<'_>,
        input: ProductRangeInput,
    ) -> Result<ProductRange> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let fields = input.parse()?;
        db::catalogue::insert_range(&state.pool, tenant.organisation_id, &fields)
            .await
            .map(ProductRange)
            .map_err(name_conflict(db::catalogue::RANGE_NAME_KEY, "range"))
    }

    async fn update_product_range(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ProductRangeInput,
    ) -> Result<ProductRange> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let fields = input.parse()?;
        db::catalogue::update_range(&state.pool, tenant.organisation_id, id, &fields)
            .await
            .map_err(name_conflict(db::catalogue::RANGE_NAME_KEY, "range"))?
            .map(ProductRange)
            .ok_or(Error::not_found("product range"))
    }

    /// Deletes a range no product belongs to.
    async fn delete_product_range(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let uuid = parse_id("id", &id)?;
        match db::catalogue::delete_range(&state.pool, tenant.organisation_id, uuid).await {
            Ok(true) => Ok(id),
            Ok(false) => Err(Error::not_found("product range")),
            Err(err) if is_constraint_violation(&err, db::catalogue::PRODUCT_RANGE_FK) => {
                Err(Error::conflict("products still belong to this range"))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Adds a product, in DRAFT.
    async fn create_product(&self, ctx: &Context<'_>, input: ProductInput) -> Result<Product> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let fields = input.parse()?;
        db::catalogue::insert_product(
            &state.pool,
            tenant.organisation_id,
            ProductStatus::Draft,
            &fields,
        )
        .await
        .map(Product)
        .map_err(sku_conflict)
    }

    /// Changes a product's fields (not its status: see `changeProductStatus`). Existing
    /// contract lines keep the price they were signed with.
    async fn update_product(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ProductInput,
    ) -> Result<Product> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let fields = input.parse()?;
        let mut tx = state.pool.begin().await?;
        let current = db::catalogue::lock_product(&mut *tx, tenant.organisation_id, id)
            .await?
            .ok_or(Error::not_found("product"))?;
        if current.status == ProductStatus::Retired {
            return Err(Error::InvalidTransition(
                "a RETIRED product cannot be changed".into(),
            ));
        }
        let row = db::catalogue::update_product(&mut *tx, tenant.organisation_id, id, &fields)
            .await
            .map_err(sku_conflict)?
            .ok_or(Error::not_found("product"))?;
        tx.commit().await?;
        Ok(Product(row))
    }

    /// Moves a product along its lifecycle: DRAFT → TEST → ACTIVE ⇄ FROZEN → RETIRED.
    async fn change_product_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: ProductStatus,
    ) -> Result<Product> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        let current = db::catalogue::lock_product(&mut *tx, tenant.organisation_id, id)
            .await?
            .ok_or(Error::not_found("product"))?;
        if !current.status.can_become(status) {
            return Err(Error::InvalidTransition(format!(
                "a product cannot go from {} to {}",
                current.status.label(),
                status.label()
            )));
        }
        let row =
            db::catalogue::set_product_status(&mut *tx, tenant.organisation_id, id, status).await?;
        tx.commit().await?;
        Ok(Product(row))
    }

    /// Sets a promotion price, optionally between two instants.
    async fn set_product_promotion(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: PromotionInput,
    ) -> Result<Product> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let price = parse_amount("price", input.price)?;
        if let (Some(start), Some(end)) = (input.starts_at, input.ends_at) {
            if end <= start {
                return Err(Invalid::new("endsAt", "is not after startsAt").into());
            }
        }
        let promotion = Promotion {
            price,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
        };
        db::catalogue::set_promotion(&state.pool, tenant.organisation_id, id, Some(promotion))
            .await?
            .map(Product)
            .ok_or(Error::not_found("product"))
    }

    async fn clear_product_promotion(&self, ctx: &Context<'_>, id: ID) -> Result<Product> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let id = parse_id("id", &id)?;
        db::catalogue::set_promotion(&state.pool, tenant.organisation_id, id, None)
            .await?
            .map(Product)
            .ok_or(Error::not_found("product"))
    }

    async fn create_price_grid(
        &self,
        ctx: &Context<'_>,
        input: PriceGridInput,
    ) -> Result<PriceGrid> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let fields = input.parse()?;
        db::catalogue::insert_grid(&state.pool, tenant.organisation_id, &fields)
            .await
            .map(PriceGrid)
            .map_err(name_conflict(db::catalogue::GRID_NAME_KEY, "price grid"))
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
        db::catalogue::update_grid(&state.pool, tenant.organisation_id, id, &fields)
            .await
            .map_err(name_conflict(db::catalogue::GRID_NAME_KEY, "price grid"))?
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
        let row = db::catalogue::set_default_grid(&mut tx, tenant.organisation_id, id)
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
        db::catalogue::find_grid(&state.pool, org, grid_id)
            .await?
            .ok_or(Error::not_found("price grid"))?;
        db::catalogue::find_product(&state.pool, org, product_id)
            .await?
            .ok_or(Error::not_found("product"))?;
        let row =
            db::catalogue::upsert_grid_price(&state.pool, org, grid_id, product_id, &price).await?;
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
        if db::catalogue::delete_grid_price(&state.pool, tenant.organisation_id, grid, product)
            .await?
        {
            Ok(true)
        } else {
            Err(Error::not_found("grid price"))
        }
    }
}

/// Loads a product for a new or changed contract line: it must exist and be sellable.
pub async fn sellable_product(
    tx: &mut sqlx::PgConnection,
    organisation_id: Uuid,
    id: Uuid,
) -> Result<ProductRow> {
    let product = db::catalogue::find_product(&mut *tx, organisation_id, id)
        .await?
        .ok_or_else(|| {
            Error::Invalid(Invalid::new(
                "productId",
                "is not a product of the organisation",
            ))
        })?;
    if !product.status.is_sellable() {
        return Err(Error::Invalid(Invalid::new(
            "productId",
            format!(
                "the product {} is not on sale ({})",
                product.sku,
                product.status.label()
            ),
        )));
    }
    Ok(product)
}
