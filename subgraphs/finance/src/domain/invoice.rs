//! Invoices and credit notes: statuses, line totals, totals per VAT rate, and the compliance
//! checks an invoice must pass to be issued (French mandatory mentions, EN 16931).

use async_graphql::Enum;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use subgraph_kit::{
    error::Invalid,
    money::{round_cents, Totals, VatRate},
};

#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[sqlx(type_name = "invoice_kind", rename_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvoiceKind {
    /// TypeCode 380.
    Invoice,
    /// TypeCode 381, referencing the original invoice.
    CreditNote,
}

impl InvoiceKind {
    pub fn label(self) -> &'static str {
        match self {
            InvoiceKind::Invoice => "INVOICE",
            InvoiceKind::CreditNote => "CREDIT_NOTE",
        }
    }

    pub fn type_code(self) -> &'static str {
        match self {
            InvoiceKind::Invoice => "380",
            InvoiceKind::CreditNote => "381",
        }
    }
}

/// Who the buyer is: a private person needs no SIREN (B2C is out of the e-invoicing scope), a
/// company does.
#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[sqlx(type_name = "buyer_kind", rename_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BuyerKind {
    Person,
    Company,
}

impl From<crm_events::directory::ClientKind> for BuyerKind {
    fn from(kind: crm_events::directory::ClientKind) -> Self {
        match kind {
            crm_events::directory::ClientKind::Person => BuyerKind::Person,
            crm_events::directory::ClientKind::Company => BuyerKind::Company,
        }
    }
}

/// Where an invoice is. OVERDUE is not stored: it is derived from the due date.
#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[sqlx(type_name = "invoice_status", rename_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvoiceStatus {
    /// Editable and deletable; no number yet.
    Draft,
    /// Numbered and immutable.
    Issued,
    PartiallyPaid,
    Paid,
    /// Fully credited.
    Cancelled,
}

impl InvoiceStatus {
    pub fn label(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "DRAFT",
            InvoiceStatus::Issued => "ISSUED",
            InvoiceStatus::PartiallyPaid => "PARTIALLY_PAID",
            InvoiceStatus::Paid => "PAID",
            InvoiceStatus::Cancelled => "CANCELLED",
        }
    }

    /// The status after payments totalling `paid` on an invoice of `total`.
    pub fn after_payment(paid: Decimal, total: Decimal) -> InvoiceStatus {
        if paid >= total {
            InvoiceStatus::Paid
        } else if paid > Decimal::ZERO {
            InvoiceStatus::PartiallyPaid
        } else {
            InvoiceStatus::Issued
        }
    }

    /// Issued and not settled: what can be paid, credited, and fall overdue.
    pub fn is_open(self) -> bool {
        matches!(self, InvoiceStatus::Issued | InvoiceStatus::PartiallyPaid)
    }
}

#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[sqlx(type_name = "operation_nature", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationNature {
    Goods,
    Services,
    Mixed,
}

/// EN 16931 VAT category codes.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum VatCategory {
    /// S: standard and reduced rates.
    Standard,
    /// Z: zero rated.
    Zero,
    /// E: exempt.
    Exempt,
    /// AE: reverse charge.
    ReverseCharge,
}

impl VatCategory {
    pub fn code(self) -> &'static str {
        match self {
            VatCategory::Standard => "S",
            VatCategory::Zero => "Z",
            VatCategory::Exempt => "E",
            VatCategory::ReverseCharge => "AE",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [
            Self::Standard,
            Self::Zero,
            Self::Exempt,
            Self::ReverseCharge,
        ]
        .into_iter()
        .find(|c| c.code() == code.trim())
    }

    /// Checks the category against the rate: S needs a positive rate, the others 0.
    pub fn check(self, field: &str, rate: VatRate) -> Result<(), Invalid> {
        let zero = rate.percent().is_zero();
        match (self, zero) {
            (VatCategory::Standard, false)
            | (VatCategory::Zero | VatCategory::Exempt | VatCategory::ReverseCharge, true) => {
                Ok(())
            }
            (VatCategory::Standard, true) => Err(Invalid::new(
                field,
                "a zero rate needs the Z, E or AE category",
            )),
            (_, false) => Err(Invalid::new(field, "this VAT category needs a zero rate")),
        }
    }

    /// The exemption reason EN 16931 requires for E and AE (BR-E-10, BR-AE-10).
    pub fn exemption_reason(self) -> Option<&'static str> {
        match self {
            VatCategory::Exempt => Some("Exonération de TVA, article 261 du CGI"),
            VatCategory::ReverseCharge => Some("Autoliquidation"),
            VatCategory::Standard | VatCategory::Zero => None,
        }
    }
}

/// A line's amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineAmounts {
    pub quantity: Decimal,
    pub unit_price: Decimal,
    /// An amount off the line, excl. VAT.
    pub discount: Decimal,
    pub vat_rate: VatRate,
}

impl LineAmounts {
    /// Net = quantity × unit price − discount, then VAT on the net, each to the cent.
    pub fn totals(&self) -> Totals {
        let excl_vat = round_cents(self.quantity * self.unit_price - self.discount);
        let vat = round_cents(excl_vat * self.vat_rate.percent() / Decimal::ONE_HUNDRED);
        Totals {
            excl_vat,
            vat,
            incl_vat: excl_vat + vat,
        }
    }
}

/// The VAT breakdown: per (category, rate), the taxable base and the tax computed on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VatBreakdown {
    pub category: VatCategory,
    pub rate: Decimal,
    pub base: Decimal,
    pub tax: Decimal,
}

/// Groups line nets by category and rate; the tax of each group is computed on its base
/// (EN 16931 BR-CO-17), and the invoice's VAT total is their sum.
pub fn vat_breakdown(lines: &[(VatCategory, Decimal, Decimal)]) -> Vec<VatBreakdown> {
    let mut groups: Vec<VatBreakdown> = Vec::new();
    for &(category, rate, net) in lines {
        match groups
            .iter_mut()
            .find(|g| g.category == category && g.rate == rate)
        {
            Some(group) => group.base += net,
            None => groups.push(VatBreakdown {
                category,
                rate,
                base: net,
                tax: Decimal::ZERO,
            }),
        }
    }
    for group in &mut groups {
        group.tax = round_cents(group.base * group.rate / Decimal::ONE_HUNDRED);
    }
    groups.sort_by(|a, b| {
        b.rate
            .cmp(&a.rate)
            .then(a.category.code().cmp(b.category.code()))
    });
    groups
}

/// Document totals from the breakdown: excl. VAT = sum of bases, VAT = sum of taxes.
pub fn invoice_totals(breakdown: &[VatBreakdown]) -> Totals {
    let excl_vat: Decimal = breakdown.iter().map(|g| g.base).sum();
    let vat: Decimal = breakdown.iter().map(|g| g.tax).sum();
    Totals {
        excl_vat,
        vat,
        incl_vat: excl_vat + vat,
    }
}

/// Due date: issue date plus the payment terms.
pub fn due_date(issue: NaiveDate, terms_days: i32) -> NaiveDate {
    issue + chrono::Days::new(u64::try_from(terms_days).unwrap_or(0))
}

/// `<prefix><year>-<sequence, 6 digits>`, e.g. `FAC2026-000042`.
pub fn format_number(prefix: &str, year: i32, sequence: i64) -> String {
    format!("{prefix}{year}-{sequence:06}")
}

/// What issuing needs to hold, as field-level problems (all of them, not the first).
#[derive(Debug, Default)]
pub struct Compliance {
    pub problems: Vec<Invalid>,
}

impl Compliance {
    pub fn require(&mut self, ok: bool, field: &str, message: &str) {
        if !ok {
            self.problems.push(Invalid::new(field, message));
        }
    }

    pub fn require_text(&mut self, value: Option<&str>, field: &str, what: &str) {
        let present = value.is_some_and(|v| !v.trim().is_empty());
        self.require(present, field, &format!("{what} is required to issue"));
    }
}

// How a payment was made (no doc comment: it would become the GraphQL description).
#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq)]
#[sqlx(type_name = "payment_method", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMethod {
    Transfer,
    SepaDebit,
    Card,
    Cheque,
    Cash,
    Other,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;
    use subgraph_kit::money::FRENCH_VAT_RATES;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    #[test]
    fn numbers_are_padded_and_carry_the_year() {
        assert_eq!(format_number("FAC", 2026, 42), "FAC2026-000042");
        assert_eq!(format_number("AV", 2027, 1), "AV2027-000001");
    }

    #[test]
    fn the_vat_breakdown_taxes_each_rate_once() {
        let lines = [
            (VatCategory::Standard, d("20"), d("10.01")),
            (VatCategory::Standard, d("20"), d("10.01")),
            (VatCategory::Standard, d("5.5"), d("100")),
            (VatCategory::Exempt, d("0"), d("50")),
        ];
        let groups = vat_breakdown(&lines);
        assert_eq!(groups.len(), 3);
        assert_eq!((groups[0].base, groups[0].tax), (d("20.02"), d("4.00")));
        assert_eq!((groups[1].base, groups[1].tax), (d("100"), d("5.50")));
        let totals = invoice_totals(&groups);
        assert_eq!(
            (totals.excl_vat, totals.vat, totals.incl_vat),
            (d("170.02"), d("9.50"), d("179.52"))
        );
    }

    #[test]
    fn categories_go_with_their_rates() {
        let twenty = VatRate::parse("r", d("20")).unwrap();
        let zero = VatRate::parse("r", d("0")).unwrap();
        assert!(VatCategory::Standard.check("c", twenty).is_ok());
        assert!(VatCategory::Standard.check("c", zero).is_err());
        assert!(VatCategory::Exempt.check("c", twenty).is_err());
        assert!(VatCategory::ReverseCharge.check("c", zero).is_ok());
    }

    #[test]
    fn payments_move_the_status() {
        assert_eq!(
            InvoiceStatus::after_payment(d("0"), d("10")),
            InvoiceStatus::Issued
        );
        assert_eq!(
            InvoiceStatus::after_payment(d("9.99"), d("10")),
            InvoiceStatus::PartiallyPaid
        );
        assert_eq!(
            InvoiceStatus::after_payment(d("10"), d("10")),
            InvoiceStatus::Paid
        );
    }

    proptest! {
        #[test]
        fn totals_are_to_the_cent_and_add_up(
            lines in proptest::collection::vec((0i64..1_000_000, 1i64..100_000, prop::sample::select(FRENCH_VAT_RATES.to_vec())), 1..20),
        ) {
            let nets: Vec<(VatCategory, Decimal, Decimal)> = lines
                .iter()
                .map(|&(price, qty, rate)| {
                    let amounts = LineAmounts {
                        quantity: Decimal::new(qty, 3),
                        unit_price: Decimal::new(price, 2),
                        discount: Decimal::ZERO,
                        vat_rate: VatRate::parse("r", rate).unwrap(),
                    };
                    let category = if rate.is_zero() { VatCategory::Zero } else { VatCategory::Standard };
                    (category, rate, amounts.totals().excl_vat)
                })
                .collect();
            let groups = vat_breakdown(&nets);
            let totals = invoice_totals(&groups);
            let sum_of_nets: Decimal = nets.iter().map(|n| n.2).sum();
            prop_assert_eq!(totals.excl_vat, sum_of_nets);
            prop_assert_eq!(totals.incl_vat, totals.excl_vat + totals.vat);
            prop_assert!(totals.vat.scale() <= 2 && totals.excl_vat.scale() <= 2);
            for g in &groups {
                prop_assert!((g.tax - g.base * g.rate / Decimal::ONE_HUNDRED).abs() <= Decimal::new(5, 3));
            }
        }
    }
}
