//! The catalogue: product ranges, products (lifecycle, promotion), price grids and the price
//! calculation. Reads are open to every member; changes need the ADMIN role.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
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
        catalogue::{ProductFields, ProductRow, RangeFields, RangeRow},
    },
    domain::money::cents,
    domain::{
        clean_text,
        money::{parse_amount, VatRate},
        optional_text,
        product::{ProductCategory, ProductKind, ProductStatus, Promotion},
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
    #[graphql(
        complexity = "subgraph_kit::pagination::cost(first, child_complexity)",
        directive = subgraph_kit::cost::paged::apply()
    )]
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

pub(super) fn name_conflict(
    constraint: &'static str,
    what: &'static str,
) -> impl Fn(sqlx::Error) -> Error {
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
