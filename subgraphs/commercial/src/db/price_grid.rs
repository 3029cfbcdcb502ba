//! Price grids and their prices per product.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgExecutor;
use uuid::Uuid;

pub const GRID_NAME_KEY: &str = "price_grids_name_key";
pub const GRID_DEFAULT_KEY: &str = "price_grids_default_key";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GridRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub is_default: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct GridFields {
    pub name: String,
    pub description: Option<String>,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub active: bool,
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn insert_grid(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    f: &GridFields,
) -> sqlx::Result<GridRow> {
    sqlx::query_as(
        "insert into price_grids (id, organisation_id, name, description, valid_from, valid_to, active)
         values ($1, $2, $3, $4, $5, $6, $7) returning *",
    )
    .bind(Uuid::now_v7())
    .bind(organisation_id)
    .bind(&f.name)
    .bind(&f.description)
    .bind(f.valid_from)
    .bind(f.valid_to)
    .bind(f.active)
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn update_grid(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    f: &GridFields,
) -> sqlx::Result<Option<GridRow>> {
    sqlx::query_as(
        "update price_grids set name = $3, description = $4, valid_from = $5, valid_to = $6,
                active = $7, updated_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(&f.name)
    .bind(&f.description)
    .bind(f.valid_from)
    .bind(f.valid_to)
    .bind(f.active)
    .fetch_optional(db)
    .await
}

/// Makes `id` the default grid, and no other (in the caller's transaction).
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn set_default_grid(
    db: &mut sqlx::PgConnection,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<GridRow>> {
    sqlx::query(
        "update price_grids set is_default = false, updated_at = now()
         where organisation_id = $1 and is_default and id <> $2",
    )
    .bind(organisation_id)
    .bind(id)
    .execute(&mut *db)
    .await?;
    sqlx::query_as(
        "update price_grids set is_default = true, updated_at = now()
         where organisation_id = $1 and id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(id)
    .fetch_optional(&mut *db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_grid(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<GridRow>> {
    sqlx::query_as("select * from price_grids where organisation_id = $1 and id = $2")
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn list_grids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
) -> sqlx::Result<Vec<GridRow>> {
    sqlx::query_as(
        "select * from price_grids where organisation_id = $1 order by is_default desc, name, id",
    )
    .bind(organisation_id)
    .fetch_all(db)
    .await
}

/// The grid in force on `on`: active and within its dates (open ends allowed), the default
/// first, then the newest; else the default grid whatever its dates.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn active_grid(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    on: NaiveDate,
) -> sqlx::Result<Option<GridRow>> {
    sqlx::query_as(
        "select * from price_grids
         where organisation_id = $1
           and ((active and (valid_from is null or valid_from <= $2)
                        and (valid_to is null or $2 <= valid_to))
                or is_default)
         order by (active and (valid_from is null or valid_from <= $2)
                          and (valid_to is null or $2 <= valid_to)) desc,
                  is_default desc, created_at desc, id desc
         limit 1",
    )
    .bind(organisation_id)
    .bind(on)
    .fetch_optional(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GridPriceRow {
    pub organisation_id: Uuid,
    pub grid_id: Uuid,
    pub product_id: Uuid,
    pub unit_price: Decimal,
    pub discount_percent: Decimal,
    pub min_price: Option<Decimal>,
    pub max_price: Option<Decimal>,
    pub updated_at: DateTime<Utc>,
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn upsert_grid_price(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    grid_id: Uuid,
    product_id: Uuid,
    price: &crate::domain::product::GridPrice,
) -> sqlx::Result<GridPriceRow> {
    sqlx::query_as(
        "insert into grid_prices (organisation_id, grid_id, product_id, unit_price, discount_percent,
                                  min_price, max_price)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (organisation_id, grid_id, product_id) do update
         set unit_price = excluded.unit_price, discount_percent = excluded.discount_percent,
             min_price = excluded.min_price, max_price = excluded.max_price, updated_at = now()
         returning *",
    )
    .bind(organisation_id)
    .bind(grid_id)
    .bind(product_id)
    .bind(price.unit_price)
    .bind(price.discount_percent)
    .bind(price.min_price)
    .bind(price.max_price)
    .fetch_one(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn delete_grid_price(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    grid_id: Uuid,
    product_id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "delete from grid_prices where organisation_id = $1 and grid_id = $2 and product_id = $3",
    )
    .bind(organisation_id)
    .bind(grid_id)
    .bind(product_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn grid_prices(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    grid_id: Uuid,
) -> sqlx::Result<Vec<GridPriceRow>> {
    sqlx::query_as(
        "select * from grid_prices where organisation_id = $1 and grid_id = $2 order by product_id",
    )
    .bind(organisation_id)
    .bind(grid_id)
    .fetch_all(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_grid_price(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    grid_id: Uuid,
    product_id: Uuid,
) -> sqlx::Result<Option<GridPriceRow>> {
    sqlx::query_as(
        "select * from grid_prices where organisation_id = $1 and grid_id = $2 and product_id = $3",
    )
    .bind(organisation_id)
    .bind(grid_id)
    .bind(product_id)
    .fetch_optional(db)
    .await
}
