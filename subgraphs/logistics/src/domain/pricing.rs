//! The price estimate shown before a letter is sent: postage of its kind, the acknowledgement
//! of receipt, and printing per sheet (colour costs more). The carrier's own postage price
//! replaces it once known.

use rust_decimal::Decimal;

use super::status::ShipmentKind;
use crate::config::Pricing;

pub fn estimate(
    tariff: &Pricing,
    kind: ShipmentKind,
    acknowledgement_of_receipt: bool,
    sheets: u32,
    colour: bool,
) -> Decimal {
    let postage = match kind {
        ShipmentKind::SimpleLetter => tariff.simple_letter,
        ShipmentKind::RegisteredLetter => tariff.registered_letter,
    };
    let receipt = if acknowledgement_of_receipt {
        tariff.acknowledgement_of_receipt
    } else {
        Decimal::ZERO
    };
    let per_sheet = tariff.per_sheet
        + if colour {
            tariff.colour_per_sheet
        } else {
            Decimal::ZERO
        };
    (postage + receipt + per_sheet * Decimal::from(sheets)).round_dp(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_adds_postage_receipt_and_sheets() {
        let tariff = Pricing {
            simple_letter: Decimal::new(139, 2),
            registered_letter: Decimal::new(536, 2),
            acknowledgement_of_receipt: Decimal::new(125, 2),
            per_sheet: Decimal::new(30, 2),
            colour_per_sheet: Decimal::new(15, 2),
        };
        assert_eq!(
            estimate(&tariff, ShipmentKind::SimpleLetter, false, 2, false).to_string(),
            "1.99"
        );
        assert_eq!(
            estimate(&tariff, ShipmentKind::RegisteredLetter, true, 3, true).to_string(),
            "7.96"
        );
    }
}
