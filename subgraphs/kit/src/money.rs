//! Money, the same way in every subgraph: decimal amounts rounded to the cent (half away from
//! zero, the French commercial rounding), the French VAT rates, amount/percent/quantity
//! parsing, and line totals. Never f64.

use crate::error::Invalid;
use rust_decimal::{Decimal, RoundingStrategy};

/// Rounds to the cent, half away from zero.
pub fn round_cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// An amount shown with its two decimals, zero included (`0.00`, not `0`).
pub fn cents(amount: Decimal) -> Decimal {
    let mut amount = amount;
    amount.rescale(2);
    amount
}

/// The VAT rates French law knows (CGI art. 278 ff.), in percent.
pub const FRENCH_VAT_RATES: [Decimal; 5] = [
    Decimal::from_parts(20, 0, 0, false, 0),
    Decimal::from_parts(10, 0, 0, false, 0),
    Decimal::from_parts(55, 0, 0, false, 1),
    Decimal::from_parts(21, 0, 0, false, 1),
    Decimal::ZERO,
];

/// A VAT rate from the French set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VatRate(Decimal);

impl VatRate {
    pub fn parse(field: &str, rate: Decimal) -> Result<Self, Invalid> {
        if FRENCH_VAT_RATES.contains(&rate) {
            Ok(Self(rate.normalize()))
        } else {
            Err(Invalid::new(
                field,
                "must be a French VAT rate: 20, 10, 5.5, 2.1 or 0",
            ))
        }
    }

    pub fn percent(self) -> Decimal {
        self.0
    }
}

/// An amount that must be zero or more, with at most two decimals.
pub fn parse_amount(field: &str, amount: Decimal) -> Result<Decimal, Invalid> {
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err(Invalid::new(field, "must not be negative"));
    }
    if amount.normalize().scale() > 2 {
        return Err(Invalid::new(field, "has more than two decimals"));
    }
    if amount > Decimal::from(9_999_999_999i64) {
        return Err(Invalid::new(field, "is too large"));
    }
    Ok(amount)
}

/// A percentage between 0 and 100, at most two decimals.
pub fn parse_percent(field: &str, value: Decimal) -> Result<Decimal, Invalid> {
    if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
        return Err(Invalid::new(field, "must be between 0 and 100"));
    }
    if value.normalize().scale() > 2 {
        return Err(Invalid::new(field, "has more than two decimals"));
    }
    Ok(value)
}

/// A quantity: more than zero, at most three decimals.
pub fn parse_quantity(field: &str, quantity: Decimal) -> Result<Decimal, Invalid> {
    if quantity <= Decimal::ZERO {
        return Err(Invalid::new(field, "must be more than zero"));
    }
    if quantity.normalize().scale() > 3 {
        return Err(Invalid::new(field, "has more than three decimals"));
    }
    if quantity > Decimal::from(999_999_999) {
        return Err(Invalid::new(field, "is too large"));
    }
    Ok(quantity)
}

/// Excl. VAT, VAT and incl. VAT amounts, each to the cent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub excl_vat: Decimal,
    pub vat: Decimal,
    pub incl_vat: Decimal,
}

impl Totals {
    /// The totals of `quantity` × `unit_price` at `vat_rate`: the excl. VAT total is rounded
    /// first, the VAT computed on it, and incl. VAT is their sum (so the three always add up).
    pub fn of_line(quantity: Decimal, unit_price: Decimal, vat_rate: VatRate) -> Self {
        let excl_vat = round_cents(quantity * unit_price);
        let vat = round_cents(excl_vat * vat_rate.percent() / Decimal::ONE_HUNDRED);
        Self {
            excl_vat,
            vat,
            incl_vat: excl_vat + vat,
        }
    }
}

impl std::iter::Sum for Totals {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), |acc, t| Self {
            excl_vat: acc.excl_vat + t.excl_vat,
            vat: acc.vat + t.vat,
            incl_vat: acc.incl_vat + t.incl_vat,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    #[test]
    fn only_the_french_rates_are_vat_rates() {
        for ok in ["20", "10", "5.5", "2.1", "0", "20.00", "5.50"] {
            assert!(VatRate::parse("vatRate", d(ok)).is_ok(), "{ok}");
        }
        for bad in ["19.6", "7", "-20", "100", "5.55"] {
            assert!(VatRate::parse("vatRate", d(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn half_cents_round_away_from_zero() {
        assert_eq!(round_cents(d("0.125")), d("0.13"));
        assert_eq!(round_cents(d("0.124")), d("0.12"));
        assert_eq!(round_cents(d("2.675")), d("2.68")); // 2.67 in binary floating point
    }

    #[test]
    fn a_line_total_is_exact() {
        let rate = VatRate::parse("r", d("5.5")).unwrap();
        let t = Totals::of_line(d("3"), d("19.99"), rate);
        assert_eq!(
            (t.excl_vat, t.vat, t.incl_vat),
            (d("59.97"), d("3.30"), d("63.27"))
        );
    }

    proptest! {
        #[test]
        fn line_totals_are_to_the_cent_and_add_up(
            cents in 0i64..100_000_000,
            milli_qty in 1i64..10_000_000,
            rate in prop::sample::select(FRENCH_VAT_RATES.to_vec()),
        ) {
            let price = Decimal::new(cents, 2);
            let quantity = Decimal::new(milli_qty, 3);
            let rate = VatRate::parse("r", rate).unwrap();
            let t = Totals::of_line(quantity, price, rate);
            prop_assert!(t.excl_vat.scale() <= 2 && t.vat.scale() <= 2 && t.incl_vat.scale() <= 2);
            prop_assert_eq!(t.incl_vat, t.excl_vat + t.vat);
            // Within half a cent of the exact product.
            prop_assert!((t.excl_vat - quantity * price).abs() <= d("0.005"));
            prop_assert!((t.vat - t.excl_vat * rate.percent() / Decimal::ONE_HUNDRED).abs() <= d("0.005"));
        }
    }
}
