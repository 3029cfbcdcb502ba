//! French company identifiers: SIREN (9 digits, Luhn), SIRET (SIREN + 5-digit NIC, Luhn, with
//! La Poste's historical exception) and the intra-EU VAT number (`FR` + key + SIREN, where
//! key = (12 + 3 × (SIREN mod 97)) mod 97).

use crate::error::Invalid;

fn digits_only(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
        .collect()
}

/// The Luhn checksum over ASCII digits.
fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// `prefix` (digits) completed with the one digit that makes it pass the Luhn check: SIRENs
/// from 8 digits, SIRETs from 13 (demo and generated data).
pub fn with_luhn_digit(prefix: &str) -> String {
    (0..10)
        .map(|d| format!("{prefix}{d}"))
        .find(|candidate| luhn_valid(candidate))
        .unwrap_or_else(|| format!("{prefix}0")) // unreachable: some digit always completes it
}

/// La Poste's SIREN; its establishments' SIRETs follow a sum-of-digits rule instead of Luhn.
const LA_POSTE_SIREN: &str = "356000000";

/// A SIREN: 9 digits passing the Luhn check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Siren(String);

impl Siren {
    pub fn parse(field: &str, value: &str) -> Result<Self, Invalid> {
        let digits = digits_only(value);
        if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new(field, "a SIREN has exactly 9 digits"));
        }
        if !luhn_valid(&digits) {
            return Err(Invalid::new(
                field,
                "this SIREN fails its check digit (Luhn)",
            ));
        }
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A SIRET: its SIREN followed by a 5-digit establishment number, check digit valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Siret(String);

impl Siret {
    pub fn parse(field: &str, value: &str, siren: &Siren) -> Result<Self, Invalid> {
        let digits = digits_only(value);
        if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new(field, "a SIRET has exactly 14 digits"));
        }
        if !digits.starts_with(siren.as_str()) {
            return Err(Invalid::new(
                field,
                "a SIRET starts with the SIREN of its société",
            ));
        }
        let valid = if siren.as_str() == LA_POSTE_SIREN {
            digits
                .bytes()
                .map(|b| u32::from(b - b'0'))
                .sum::<u32>()
                .is_multiple_of(5)
        } else {
            luhn_valid(&digits)
        };
        if !valid {
            return Err(Invalid::new(
                field,
                "this SIRET fails its check digit (Luhn)",
            ));
        }
        Ok(Self(digits))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The French VAT key of a SIREN.
pub fn french_vat_key(siren: &Siren) -> u32 {
    let n: u64 = siren.as_str().parse().unwrap_or(0);
    ((12 + 3 * (n % 97)) % 97) as u32
}

/// An intra-EU VAT number. French numbers are checked in full (key and SIREN); other member
/// states' numbers are checked for shape only (country prefix + 2 to 12 letters or digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VatNumber(String);

impl VatNumber {
    /// Parses `value`; when `siren` is given, a French number must embed it.
    pub fn parse(field: &str, value: &str, siren: Option<&Siren>) -> Result<Self, Invalid> {
        let compact: String = value
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
            .collect::<String>()
            .to_ascii_uppercase();
        if compact.len() < 4 || !compact.is_char_boundary(2) {
            return Err(Invalid::new(field, "not an intra-EU VAT number"));
        }
        let (country, rest) = compact.split_at(2);
        if !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(Invalid::new(
                field,
                "a VAT number starts with its country code (FR…)",
            ));
        }
        if country != "FR" {
            if !(2..=12).contains(&rest.len()) || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(Invalid::new(field, "not an intra-EU VAT number"));
            }
            return Ok(Self(compact));
        }
        if rest.len() != 11 || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new(
                field,
                "a French VAT number is FR, a 2-digit key and the 9-digit SIREN",
            ));
        }
        let embedded = Siren::parse(field, &rest[2..])
            .map_err(|_| Invalid::new(field, "the SIREN inside this VAT number is invalid"))?;
        let key: u32 = rest[..2].parse().unwrap_or(u32::MAX);
        if key != french_vat_key(&embedded) {
            return Err(Invalid::new(
                field,
                "the key of this VAT number does not match its SIREN",
            ));
        }
        if let Some(siren) = siren {
            if siren != &embedded {
                return Err(Invalid::new(
                    field,
                    "this VAT number belongs to another SIREN",
                ));
            }
        }
        Ok(Self(compact))
    }

    /// The French VAT number of `siren`.
    pub fn french(siren: &Siren) -> Self {
        Self(format!("FR{:02}{}", french_vat_key(siren), siren.as_str()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_sirens_are_accepted_and_typos_refused() {
        // Publicly listed companies.
        assert!(Siren::parse("siren", "732 829 320").is_ok());
        assert!(Siren::parse("siren", "552100554").is_ok());
        assert!(Siren::parse("siren", "732829321").is_err());
        assert!(Siren::parse("siren", "73282932").is_err());
        assert!(Siren::parse("siren", "73282932a").is_err());
    }

    #[test]
    fn french_vat_number_key_is_checked_against_the_siren() {
        let siren = Siren::parse("siren", "732829320").unwrap();
        let vat = VatNumber::french(&siren).into_inner();
        assert_eq!(vat, "FR44732829320");
        assert!(VatNumber::parse("vat", "FR 44 732 829 320", Some(&siren)).is_ok());
        assert!(VatNumber::parse("vat", "FR45732829320", Some(&siren)).is_err());
        let other = Siren::parse("siren", "552100554").unwrap();
        assert!(VatNumber::parse("vat", "FR44732829320", Some(&other)).is_err());
        assert!(VatNumber::parse("vat", "DE123456789", None).is_ok());
        assert!(VatNumber::parse("vat", "12345", None).is_err());
    }

    #[test]
    fn siret_must_extend_its_siren_and_pass_luhn() {
        let siren = Siren::parse("siren", "732829320").unwrap();
        assert!(Siret::parse("siret", "73282932000074", &siren).is_ok());
        assert!(Siret::parse("siret", "73282932000075", &siren).is_err());
        assert!(Siret::parse("siret", "55210055400013", &siren).is_err());
        let la_poste = Siren::parse("siren", LA_POSTE_SIREN).unwrap();
        assert!(Siret::parse("siret", "35600000000001", &la_poste).is_ok());
    }

    proptest! {
        #[test]
        fn every_luhn_completed_siren_parses_and_any_single_digit_change_is_caught(
            prefix in "[0-9]{8}", position in 0usize..9, delta in 1u8..10
        ) {
            let siren = with_luhn_digit(&prefix);
            prop_assert!(Siren::parse("siren", &siren).is_ok());
            let mut bytes = siren.into_bytes();
            bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
            let altered = String::from_utf8(bytes).unwrap();
            prop_assert!(Siren::parse("siren", &altered).is_err());
        }

        #[test]
        fn the_vat_number_built_from_a_siren_parses_back(prefix in "[0-9]{8}") {
            let siren = Siren::parse("siren", &with_luhn_digit(&prefix)).unwrap();
            let vat = VatNumber::french(&siren).into_inner();
            prop_assert!(VatNumber::parse("vat", &vat, Some(&siren)).is_ok());
        }
    }
}
