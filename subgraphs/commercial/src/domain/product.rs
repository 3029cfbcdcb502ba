//! Products: their lifecycle, their promotion, and the price calculation of the catalogue.

use async_graphql::Enum;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::money::{round_cents, Totals, VatRate};

/// Where a product is in its life. Only ACTIVE and TEST products go on new contract lines.
#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[sqlx(type_name = "product_status", rename_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductStatus {
    /// Being written; not sold.
    Draft,
    /// Sold to test clients.
    Test,
    /// On sale.
    Active,
    /// No new sales for now; existing contracts continue.
    Frozen,
    /// Withdrawn for good.
    Retired,
}

impl ProductStatus {
    /// The statuses this one may move to.
    pub fn successors(self) -> &'static [ProductStatus] {
        use ProductStatus::*;
        match self {
            Draft => &[Test, Active],
            Test => &[Draft, Active],
            Active => &[Frozen, Retired],
            Frozen => &[Active, Retired],
            Retired => &[],
        }
    }

    pub fn can_become(self, next: ProductStatus) -> bool {
        self.successors().contains(&next)
    }

    pub fn label(self) -> &'static str {
        use ProductStatus::*;
        match self {
            Draft => "DRAFT",
            Test => "TEST",
            Active => "ACTIVE",
            Frozen => "FROZEN",
            Retired => "RETIRED",
        }
    }

    /// Whether new contract lines may use it.
    pub fn is_sellable(self) -> bool {
        matches!(self, ProductStatus::Active | ProductStatus::Test)
    }
}

#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[sqlx(type_name = "product_category", rename_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductCategory {
    Insurance,
    Provident,
    Savings,
    Service,
    Accessory,
}

#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq)]
#[sqlx(type_name = "product_kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductKind {
    /// Made by the organisation.
    Internal,
    /// Sold on behalf of a partner.
    Partner,
}

/// A promotion: a price, and the period it holds (open ends allowed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Promotion {
    pub price: Decimal,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
}

impl Promotion {
    /// In force at `at`: started (or no start) and not yet ended (or no end).
    pub fn applies_at(&self, at: DateTime<Utc>) -> bool {
        self.starts_at.is_none_or(|s| s <= at) && self.ends_at.is_none_or(|e| at < e)
    }
}

/// A product's price in a grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridPrice {
    pub unit_price: Decimal,
    pub discount_percent: Decimal,
    pub min_price: Option<Decimal>,
    pub max_price: Option<Decimal>,
}

/// What a price is computed from.
#[derive(Debug, Clone, Copy)]
pub struct PriceRequest {
    pub list_price: Decimal,
    pub vat_rate: VatRate,
    /// The product's promotion, when it is in force.
    pub promotion: Option<Decimal>,
    pub grid: Option<GridPrice>,
    pub quantity: Decimal,
    /// A discount on top of the grid's, in percent.
    pub additional_discount: Decimal,
}

/// A computed price, exact to the cent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceQuote {
    /// Before discounts: the grid's price, else the list price; a promotion replaces it.
    pub base_unit_price: Decimal,
    pub promotion_applied: bool,
    /// Grid discount plus the additional one, at most 100.
    pub discount_percent: Decimal,
    /// After discounts and the grid's min/max clamp.
    pub unit_price: Decimal,
    pub quantity: Decimal,
    pub totals: Totals,
}

/// Grid (or list) price → promotion → discounts → clamp → totals.
pub fn calculate_price(request: &PriceRequest) -> PriceQuote {
    let mut base = request
        .grid
        .map_or(request.list_price, |grid| grid.unit_price);
    let promotion_applied = request.promotion.is_some();
    if let Some(promotion) = request.promotion {
        base = promotion;
    }
    let grid_discount = request
        .grid
        .map_or(Decimal::ZERO, |grid| grid.discount_percent);
    let discount_percent = (grid_discount + request.additional_discount).min(Decimal::ONE_HUNDRED);
    let mut unit_price =
        round_cents(base * (Decimal::ONE_HUNDRED - discount_percent) / Decimal::ONE_HUNDRED);
    if let Some(grid) = request.grid {
        if let Some(min) = grid.min_price {
            unit_price = unit_price.max(min);
        }
        if let Some(max) = grid.max_price {
            unit_price = unit_price.min(max);
        }
    }
    PriceQuote {
        base_unit_price: base,
        promotion_applied,
        discount_percent,
        unit_price,
        quantity: request.quantity,
        totals: Totals::of_line(request.quantity, unit_price, request.vat_rate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::FRENCH_VAT_RATES;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    fn request(list: &str, grid: Option<GridPrice>, promo: Option<&str>) -> PriceRequest {
        PriceRequest {
            list_price: d(list),
            vat_rate: VatRate::parse("r", d("20")).unwrap(),
            promotion: promo.map(d),
            grid,
            quantity: d("3"),
            additional_discount: Decimal::ZERO,
        }
    }

    #[test]
    fn the_lifecycle_moves_forward_and_retired_is_final() {
        use ProductStatus::*;
        assert!(Draft.can_become(Active));
        assert!(Active.can_become(Frozen) && Frozen.can_become(Active));
        assert!(!Active.can_become(Draft));
        assert!(Retired.successors().is_empty());
        assert!(!Frozen.is_sellable() && !Retired.is_sellable() && Active.is_sellable());
    }

    #[test]
    fn a_promotion_holds_between_its_dates() {
        let start = "2026-01-01T00:00:00Z".parse().unwrap();
        let end = "2026-02-01T00:00:00Z".parse().unwrap();
        let promo = Promotion {
            price: d("9"),
            starts_at: Some(start),
            ends_at: Some(end),
        };
        assert!(promo.applies_at(start));
        assert!(!promo.applies_at(end));
        assert!(!promo.applies_at("2025-12-31T23:59:59Z".parse().unwrap()));
    }

    #[test]
    fn the_grid_price_then_discount_then_clamp() {
        let grid = GridPrice {
            unit_price: d("100"),
            discount_percent: d("15"),
            min_price: Some(d("90")),
            max_price: None,
        };
        let quote = calculate_price(&request("120", Some(grid), None));
        assert_eq!(quote.base_unit_price, d("100"));
        assert_eq!(quote.unit_price, d("90")); // 85 clamped up to the minimum
        assert_eq!(quote.totals.excl_vat, d("270.00"));
        assert_eq!(quote.totals.vat, d("54.00"));
        assert_eq!(quote.totals.incl_vat, d("324.00"));
    }

    #[test]
    fn a_promotion_replaces_the_price_and_discounts_still_apply() {
        let mut req = request("120", None, Some("99.99"));
        req.additional_discount = d("10");
        let quote = calculate_price(&req);
        assert!(quote.promotion_applied);
        assert_eq!(quote.unit_price, d("89.99")); // 89.991
        assert_eq!(quote.totals.excl_vat, d("269.97"));
    }

    proptest! {
        #[test]
        fn prices_are_exact_to_the_cent_and_within_the_clamp(
            list in 0i64..10_000_000,
            grid_price in 0i64..10_000_000,
            grid_discount in 0i64..10_000,
            extra in 0i64..10_000,
            min in proptest::option::of(0i64..5_000_000),
            qty in 1i64..1_000_000,
            rate in prop::sample::select(FRENCH_VAT_RATES.to_vec()),
            use_grid: bool,
        ) {
            let grid = use_grid.then(|| GridPrice {
                unit_price: Decimal::new(grid_price, 2),
                discount_percent: Decimal::new(grid_discount, 2),
                min_price: min.map(|m| Decimal::new(m, 2)),
                max_price: min.map(|m| Decimal::new(m * 2, 2)),
            });
            let req = PriceRequest {
                list_price: Decimal::new(list, 2),
                vat_rate: VatRate::parse("r", rate).unwrap(),
                promotion: None,
                grid,
                quantity: Decimal::new(qty, 3),
                additional_discount: Decimal::new(extra, 2),
            };
            let q = calculate_price(&req);
            prop_assert!(q.unit_price.scale() <= 2);
            prop_assert!(q.discount_percent <= Decimal::ONE_HUNDRED);
            prop_assert!(q.unit_price >= Decimal::ZERO);
            if let Some(GridPrice { min_price: Some(lo), max_price: Some(hi), .. }) = grid {
                prop_assert!(q.unit_price >= lo && q.unit_price <= hi);
            } else {
                prop_assert!(q.unit_price <= q.base_unit_price);
            }
            prop_assert_eq!(q.totals.incl_vat, q.totals.excl_vat + q.totals.vat);
            prop_assert_eq!(q.totals, Totals::of_line(q.quantity, q.unit_price, req.vat_rate));
        }
    }
}
