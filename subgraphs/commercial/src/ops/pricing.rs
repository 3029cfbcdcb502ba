//! Pricing a quantity of a product: the grid price (a given grid, else the organisation's
//! active one), the promotion in force, the discounts, the clamp, the totals. The
//! `calculatePrice` query and contract lines without a price both call it.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use subgraph_kit::{error::Error, money::VatRate};
use uuid::Uuid;

use crate::{
    db::{self, catalogue::ProductRow, price_grid::GridRow},
    domain::product::{calculate_price, GridPrice, PriceQuote, PriceRequest},
    error::Result,
};

/// What a price request names besides the product.
#[derive(Debug, Clone, Copy)]
pub struct PriceInput {
    /// The grid to price from; `None`: the organisation's grid active at `at`, if any.
    pub grid_id: Option<Uuid>,
    /// When the price applies (promotions and grids are dated).
    pub at: DateTime<Utc>,
    pub quantity: Decimal,
    pub additional_discount: Decimal,
    pub vat_rate: VatRate,
}

/// The quote, and the grid it came from.
#[derive(Debug)]
pub struct Priced {
    pub grid: Option<GridRow>,
    pub quote: PriceQuote,
}

#[tracing::instrument(skip_all, fields(product = %product.id))]
pub async fn price_product(
    conn: &mut PgConnection,
    product: &ProductRow,
    input: PriceInput,
) -> Result<Priced> {
    let org = product.organisation_id;
    let grid = match input.grid_id {
        Some(id) => Some(
            db::price_grid::find_grid(&mut *conn, org, id)
                .await?
                .ok_or(Error::not_found("price grid"))?,
        ),
        None => db::price_grid::active_grid(&mut *conn, org, input.at.date_naive()).await?,
    };
    let grid_price = match &grid {
        Some(grid) => db::price_grid::find_grid_price(&mut *conn, org, grid.id, product.id)
            .await?
            .map(|p| GridPrice {
                unit_price: p.unit_price,
                discount_percent: p.discount_percent,
                min_price: p.min_price,
                max_price: p.max_price,
            }),
        None => None,
    };
    let quote = calculate_price(&PriceRequest {
        list_price: product.unit_price,
        vat_rate: input.vat_rate,
        promotion: product
            .promotion()
            .filter(|p| p.applies_at(input.at))
            .map(|p| p.price),
        grid: grid_price,
        quantity: input.quantity,
        additional_discount: input.additional_discount,
    });
    Ok(Priced { grid, quote })
}
