//! Commissions: choosing the scale (barème) that applies to a payment, computing the gross
//! amount and the tier bonuses, and the clawback (reprise) rules.

use async_graphql::Enum;
use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{money::round_cents, product::ProductCategory};

#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[sqlx(
    type_name = "commission_calculation",
    rename_all = "SCREAMING_SNAKE_CASE"
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Calculation {
    /// The fixed amount.
    Fixed,
    /// The rate applied to the base.
    Percentage,
    /// The rate applied to the base, plus the fixed amount.
    Mixed,
}

/// What the rate applies to.
#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[sqlx(type_name = "commission_base", rename_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommissionBase {
    /// The premium collected, excl. VAT (cotisation HT).
    PremiumExclVat,
    /// The revenue collected, excl. VAT (CA HT).
    RevenueExclVat,
    /// No base: the fixed amount only (forfait).
    Flat,
}

#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[sqlx(type_name = "commission_status", rename_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommissionStatus {
    Calculated,
    Validated,
    Paid,
    Cancelled,
}

impl CommissionStatus {
    pub fn transition(self, next: CommissionStatus) -> Result<CommissionStatus, String> {
        use CommissionStatus::*;
        let allowed = matches!(
            (self, next),
            (Calculated, Validated) | (Validated, Paid) | (Calculated | Validated, Cancelled)
        );
        if allowed {
            Ok(next)
        } else {
            Err(format!(
                "a commission cannot go from {} to {}",
                format!("{self:?}").to_uppercase(),
                format!("{next:?}").to_uppercase()
            ))
        }
    }
}

/// A tier: a bonus when the base falls within its thresholds (no upper bound when `max` is
/// `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Tier {
    pub min: Decimal,
    pub max: Option<Decimal>,
    pub bonus: Decimal,
}

/// A scale version, as the calculation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scale {
    pub id: Uuid,
    pub code: String,
    pub version: i32,
    pub calculation: Calculation,
    pub base: CommissionBase,
    pub rate: Option<Decimal>,
    pub fixed_amount: Option<Decimal>,
    pub product_category: Option<ProductCategory>,
    pub societe_id: Option<Uuid>,
    pub sales_channel: Option<String>,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
    pub active: bool,
    pub tiers: Vec<Tier>,
}

/// What a payment is about, for choosing a scale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Situation {
    pub date: NaiveDate,
    pub product_category: Option<ProductCategory>,
    pub societe_id: Option<Uuid>,
    pub sales_channel: Option<String>,
}

impl Scale {
    /// Active on the date, and each filter empty (any) or equal to the situation's.
    pub fn applies_to(&self, s: &Situation) -> bool {
        fn matches<T: PartialEq>(filter: &Option<T>, value: &Option<T>) -> bool {
            filter.is_none() || filter == value
        }
        self.active
            && self.effective_from <= s.date
            && self.effective_to.is_none_or(|to| s.date <= to)
            && matches(&self.product_category, &s.product_category)
            && matches(&self.societe_id, &s.societe_id)
            && matches(&self.sales_channel, &s.sales_channel)
    }

    /// How many filters it sets: a scale naming the product category is preferred to a
    /// catch-all one.
    fn specificity(&self) -> usize {
        usize::from(self.product_category.is_some())
            + usize::from(self.societe_id.is_some())
            + usize::from(self.sales_channel.is_some())
    }
}

/// The applicable scale: among those that apply, the most specific, then the highest
/// version, then the latest start (ties broken by id so the choice is stable).
pub fn select_scale<'a>(scales: &'a [Scale], situation: &Situation) -> Option<&'a Scale> {
    scales
        .iter()
        .filter(|s| s.applies_to(situation))
        .max_by_key(|s| (s.specificity(), s.version, s.effective_from, s.id))
}

/// A computed commission, to the cent, with what produced it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Computation {
    pub base_amount: Decimal,
    pub gross: Decimal,
    pub bonus: Decimal,
    pub net: Decimal,
    pub applied_tiers: Vec<Tier>,
}

/// Gross from the calculation kind, plus the bonus of every tier the base falls in.
pub fn compute(scale: &Scale, base_amount: Decimal) -> Computation {
    let base_amount = round_cents(base_amount);
    let rated = |rate: Option<Decimal>| {
        if scale.base == CommissionBase::Flat {
            Decimal::ZERO
        } else {
            base_amount * rate.unwrap_or_default() / Decimal::ONE_HUNDRED
        }
    };
    let fixed = scale.fixed_amount.unwrap_or_default();
    let gross = round_cents(match scale.calculation {
        Calculation::Fixed => fixed,
        Calculation::Percentage => rated(scale.rate),
        Calculation::Mixed => rated(scale.rate) + fixed,
    });
    let applied_tiers: Vec<Tier> = scale
        .tiers
        .iter()
        .filter(|t| t.min <= base_amount && t.max.is_none_or(|max| base_amount <= max))
        .copied()
        .collect();
    let bonus = round_cents(applied_tiers.iter().map(|t| t.bonus).sum());
    Computation {
        base_amount,
        gross,
        bonus,
        net: gross + bonus,
        applied_tiers,
    }
}

/// The clawback of a commission of `net` calculated on `calculated_on`, for an event on
/// `event_date`: `rate` percent of the net, provided the event falls within `window_months`.
pub fn clawback(
    net: Decimal,
    calculated_on: NaiveDate,
    event_date: NaiveDate,
    window_months: u32,
    rate: Decimal,
) -> Option<Decimal> {
    let limit = calculated_on.checked_add_months(Months::new(window_months))?;
    (event_date <= limit).then(|| round_cents(net * rate / Decimal::ONE_HUNDRED))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::from_str(s).unwrap_or_default()
    }

    fn scale(calculation: Calculation, rate: Option<&str>, fixed: Option<&str>) -> Scale {
        Scale {
            id: Uuid::now_v7(),
            code: "STD".into(),
            version: 1,
            calculation,
            base: CommissionBase::PremiumExclVat,
            rate: rate.map(d),
            fixed_amount: fixed.map(d),
            product_category: None,
            societe_id: None,
            sales_channel: None,
            effective_from: date("2026-01-01"),
            effective_to: None,
            active: true,
            tiers: vec![],
        }
    }

    fn situation(on: &str) -> Situation {
        Situation {
            date: date(on),
            product_category: Some(ProductCategory::Insurance),
            societe_id: None,
            sales_channel: Some("WEB".into()),
        }
    }

    #[test]
    fn fixed_percentage_and_mixed() {
        let base = d("1234.56");
        assert_eq!(
            compute(&scale(Calculation::Fixed, None, Some("50")), base).gross,
            d("50")
        );
        assert_eq!(
            compute(&scale(Calculation::Percentage, Some("12.5"), None), base).gross,
            d("154.32") // 154.32
        );
        assert_eq!(
            compute(&scale(Calculation::Mixed, Some("3.33"), Some("10")), base).gross,
            d("51.11") // 41.110848 + 10
        );
    }

    #[test]
    fn every_tier_the_base_falls_in_adds_its_bonus() {
        let mut s = scale(Calculation::Percentage, Some("10"), None);
        s.tiers = vec![
            Tier {
                min: d("0"),
                max: Some(d("999.99")),
                bonus: d("5"),
            },
            Tier {
                min: d("1000"),
                max: None,
                bonus: d("20"),
            },
            Tier {
                min: d("500"),
                max: None,
                bonus: d("7.5"),
            },
        ];
        let c = compute(&s, d("1500"));
        assert_eq!(
            (c.gross, c.bonus, c.net),
            (d("150.00"), d("27.50"), d("177.50"))
        );
        assert_eq!(c.applied_tiers.len(), 2);
    }

    #[test]
    fn the_most_specific_then_highest_version_applies() {
        let mut v1 = scale(Calculation::Fixed, None, Some("1"));
        let mut v2 = scale(Calculation::Fixed, None, Some("2"));
        v2.version = 2;
        v2.effective_from = date("2026-06-01");
        v1.effective_to = Some(date("2026-05-31"));
        let mut web = scale(Calculation::Fixed, None, Some("3"));
        web.code = "WEB".into();
        web.sales_channel = Some("WEB".into());
        web.effective_from = date("2026-03-01");
        let mut savings = scale(Calculation::Fixed, None, Some("4"));
        savings.product_category = Some(ProductCategory::Savings);
        let scales = vec![v1.clone(), v2.clone(), web.clone(), savings];
        assert_eq!(select_scale(&scales, &situation("2026-02-01")), Some(&v1));
        assert_eq!(select_scale(&scales, &situation("2026-04-01")), Some(&web));
        let mut phone = situation("2026-07-01");
        phone.sales_channel = Some("PHONE".into());
        assert_eq!(select_scale(&scales, &phone), Some(&v2));
        assert_eq!(select_scale(&scales, &situation("2025-12-31")), None);
        let mut inactive = v2;
        inactive.active = false;
        assert_eq!(select_scale(&[inactive], &phone), None);
    }

    #[test]
    fn a_clawback_is_due_only_within_its_window() {
        let on = date("2026-01-31");
        assert_eq!(
            clawback(d("100"), on, date("2026-04-30"), 3, d("100")),
            Some(d("100.00"))
        );
        assert_eq!(
            clawback(d("100"), on, date("2026-05-01"), 3, d("100")),
            None
        );
        assert_eq!(clawback(d("99.99"), on, on, 3, d("50")), Some(d("50.00"))); // 49.995
    }

    #[test]
    fn commissions_move_forward_only() {
        use CommissionStatus::*;
        assert!(Calculated.transition(Validated).is_ok());
        assert!(Validated.transition(Paid).is_ok());
        assert!(Paid.transition(Cancelled).is_err());
        assert!(Calculated.transition(Paid).is_err());
    }

    proptest! {
        #[test]
        fn commissions_are_exact_to_the_cent(
            base in 0i64..100_000_000,
            rate in 0i64..10_000,
            fixed in 0i64..1_000_000,
            bonus in 0i64..100_000,
            kind in prop::sample::select(vec![Calculation::Fixed, Calculation::Percentage, Calculation::Mixed]),
        ) {
            let base = Decimal::new(base, 2);
            let rate = Decimal::new(rate, 2);
            let fixed = Decimal::new(fixed, 2);
            let mut s = scale(kind, Some("0"), Some("0"));
            s.rate = Some(rate);
            s.fixed_amount = Some(fixed);
            s.tiers = vec![Tier { min: Decimal::ZERO, max: None, bonus: Decimal::new(bonus, 2) }];
            let c = compute(&s, base);
            let exact = match kind {
                Calculation::Fixed => fixed,
                Calculation::Percentage => base * rate / Decimal::ONE_HUNDRED,
                Calculation::Mixed => base * rate / Decimal::ONE_HUNDRED + fixed,
            };
            prop_assert!(c.gross.scale() <= 2 && c.net.scale() <= 2);
            prop_assert!((c.gross - exact).abs() <= d("0.005"));
            prop_assert_eq!(c.net, c.gross + Decimal::new(bonus, 2));
            prop_assert!(c.net >= Decimal::ZERO);
        }
    }
}
