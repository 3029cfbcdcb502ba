//! Product ranges and products.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgExecutor, Postgres, QueryBuilder};
use subgraph_kit::pagination::{and_eq, PageRequest};
use uuid::Uuid;

use crate::domain::product::{ProductCategory, ProductKind, ProductStatus};

pub const PRODUCT_SKU_KEY: &str = "products_sku_key";
pub const RANGE_NAME_KEY: &str = "product_ranges_name_key";
/// A product still on contract lines or grids cannot be deleted.
pub const CONTRACT_LINE_PRODUCT_FK: &str = "contract_lines_organisation_id_product_id_fkey";
pub const PRODUCT_RANGE_FK: &str = "products_organisation_id_range_id_fkey";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RangeRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub description: Option<String>,
    pub position: i32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct RangeFields {
    pub name: String,
    pub code: Option<String>,
    pub description: Option<String>,
    pub position: i32,
    pub active: bool,
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_range(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    f: &RangeFields,
) -> sqlx::Result<RangeRow> {
    sqlx::query_as(
        "insert into product_ranges (id, organisation_id, name, code, description, position, active)
         values ($1, $2, $3, $4, $5, $6, $7) returning *",
    )
    .bind(Uuid::now_v7())
    .bind(organisation_id)
    .bind(&f.name)
    .bind(&f.code)
    .bind(&f.description)
    .bind(f.position)
    .bind(f.active)
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn update_range(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    f: &RangeFields,
) -> sqlx::Result<Option<RangeRow>> {
    sqlx::query_as(
        "update product_ranges set name = $3, code = $4, description = $5, position = $6,
                active = $7, updated_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(&f.name)
    .bind(&f.code)
    .bind(&f.description)
    .bind(f.position)
    .bind(f.active)
    .fetch_optional(db)
    .await
}

/// Ranges by id, for DataLoaders: one statement.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn ranges_by_ids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<RangeRow>> {
    sqlx::query_as("select * from product_ranges where organisation_id = $1 and id = any($2)")
        .bind(organisation_id)
        .bind(ids)
        .fetch_all(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn list_ranges(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
) -> sqlx::Result<Vec<RangeRow>> {
    sqlx::query_as(
        "select * from product_ranges where organisation_id = $1 order by position, name, id",
    )
    .bind(organisation_id)
    .fetch_all(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn delete_range(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query("delete from product_ranges where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub range_id: Option<Uuid>,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub category: ProductCategory,
    pub kind: ProductKind,
    pub unit_price: Decimal,
    pub vat_rate: Decimal,
    pub currency: String,
    pub status: ProductStatus,
    pub promotion_price: Option<Decimal>,
    pub promotion_starts_at: Option<DateTime<Utc>>,
    pub promotion_ends_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ProductRow {
    pub fn promotion(&self) -> Option<crate::domain::product::Promotion> {
        self.promotion_price
            .map(|price| crate::domain::product::Promotion {
                price,
                starts_at: self.promotion_starts_at,
                ends_at: self.promotion_ends_at,
            })
    }
}

/// A product's editable fields, valid.
#[derive(Debug, Clone)]
pub struct ProductFields {
    pub range_id: Option<Uuid>,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub category: ProductCategory,
    pub kind: ProductKind,
    pub unit_price: Decimal,
    pub vat_rate: Decimal,
    pub currency: String,
}

type ProductQuery<'q> = sqlx::query::QueryAs<'q, Postgres, ProductRow, sqlx::postgres::PgArguments>;

/// Binds the editable fields as `$3…$11`, in the column order both statements use.
fn bind_product<'q>(query: ProductQuery<'q>, f: &'q ProductFields) -> ProductQuery<'q> {
    query
        .bind(f.range_id)
        .bind(&f.sku)
        .bind(&f.name)
        .bind(&f.description)
        .bind(f.category)
        .bind(f.kind)
        .bind(f.unit_price)
        .bind(f.vat_rate)
        .bind(&f.currency)
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_product(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    status: ProductStatus,
    f: &ProductFields,
) -> sqlx::Result<ProductRow> {
    let query = sqlx::query_as(
        "insert into products (id, organisation_id, range_id, sku, name, description, category,
                               kind, unit_price, vat_rate, currency, status)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning *",
    )
    .bind(Uuid::now_v7())
    .bind(organisation_id);
    bind_product(query, f).bind(status).fetch_one(db).await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn update_product(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    f: &ProductFields,
) -> sqlx::Result<Option<ProductRow>> {
    let query = sqlx::query_as(
        "update products set range_id = $3, sku = $4, name = $5, description = $6, category = $7,
                kind = $8, unit_price = $9, vat_rate = $10, currency = $11, updated_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id);
    bind_product(query, f).fetch_optional(db).await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn set_product_status(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    status: ProductStatus,
) -> sqlx::Result<ProductRow> {
    sqlx::query_as(
        "update products set status = $3, updated_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(status)
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn set_promotion(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    promotion: Option<crate::domain::product::Promotion>,
) -> sqlx::Result<Option<ProductRow>> {
    sqlx::query_as(
        "update products set promotion_price = $3, promotion_starts_at = $4,
                promotion_ends_at = $5, updated_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(promotion.map(|p| p.price))
    .bind(promotion.and_then(|p| p.starts_at))
    .bind(promotion.and_then(|p| p.ends_at))
    .fetch_optional(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_product(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ProductRow>> {
    sqlx::query_as("select * from products where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn lock_product(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ProductRow>> {
    sqlx::query_as("select * from products where organisation_id = $1 and id = $2 for update")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_product_by_sku(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    sku: &str,
) -> sqlx::Result<Option<ProductRow>> {
    sqlx::query_as("select * from products where organisation_id = $1 and sku = $2")
        .bind(organisation_id)
        .bind(sku)
        .fetch_optional(db)
        .await
}

/// Products by id, for DataLoaders: one statement.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn products_by_ids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<ProductRow>> {
    sqlx::query_as("select * from products where organisation_id = $1 and id = any($2)")
        .bind(organisation_id)
        .bind(ids)
        .fetch_all(db)
        .await
}

/// Filters of the product list; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    pub status: Option<ProductStatus>,
    pub category: Option<ProductCategory>,
    pub range_id: Option<Uuid>,
    /// Part of the name or SKU, any case.
    pub search: Option<String>,
}

fn push_product_filter(
    q: &mut QueryBuilder<'_, Postgres>,
    organisation_id: Uuid,
    f: &ProductFilter,
) {
    q.push(" where organisation_id = ")
        .push_bind(organisation_id);
    and_eq(q, "status", f.status);
    and_eq(q, "category", f.category);
    and_eq(q, "range_id", f.range_id);
    if let Some(search) = &f.search {
        let pattern = format!("%{}%", escape_like(search));
        q.push(" and (name ilike ")
            .push_bind(pattern.clone())
            .push(" or sku ilike ")
            .push_bind(pattern)
            .push(")");
    }
}

/// Escapes `%`, `_` and `\` so a search term matches literally.
pub fn escape_like(term: &str) -> String {
    term.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A page of products by name, and how many match.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn list_products_page(
    db: &sqlx::PgPool,
    organisation_id: Uuid,
    filter: &ProductFilter,
    page: &PageRequest,
) -> sqlx::Result<(Vec<ProductRow>, i64)> {
    let mut count = QueryBuilder::new("select count(*) from products");
    push_product_filter(&mut count, organisation_id, filter);
    let total: i64 = count.build_query_scalar().fetch_one(db).await?;
    let mut q = QueryBuilder::new("select * from products");
    push_product_filter(&mut q, organisation_id, filter);
    if let Some(after) = &page.after {
        q.push(" and (name, id) > (")
            .push_bind(after.key.as_str().unwrap_or_default().to_owned())
            .push(", ")
            .push_bind(after.id)
            .push(")");
    }
    q.push(" order by name, id limit ")
        .push_bind(page.fetch_limit());
    let rows = q.build_query_as().fetch_all(db).await?;
    Ok((rows, total))
}
