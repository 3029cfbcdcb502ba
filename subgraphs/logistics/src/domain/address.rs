//! Postal addresses as La Poste and Maileva take them: at most six lines of at most 38
//! characters (NF Z10-011), line 1 or 2 present (the recipient), line 6 the locality — for
//! France and the places that use its postcodes, "NNNNN CITY" with the place's own 5-digit
//! postcode (Andorra: "AD" and 3 digits) —, and a country the chosen service reaches.
//!
//! Every rule broken is reported at once, each naming its field, before anything is sent.

use subgraph_kit::{error::Invalid, text::refused_character};

use super::status::ShipmentKind;

/// Longest line, in characters.
pub const MAX_LINE: usize = 38;

/// Where registered letters go (Maileva's registered mail).
pub const REGISTERED_COUNTRIES: &[&str] = &[
    "FR", "MC", "AD", "RE", "YT", "MQ", "GP", "MF", "BL", "GF", "PM",
];

/// Where simple letters go: the registered countries, the rest of the EEA, Switzerland and the
/// United Kingdom.
pub const SIMPLE_COUNTRIES: &[&str] = &[
    "FR", "MC", "AD", "RE", "YT", "MQ", "GP", "MF", "BL", "GF", "PM", "NC", "PF", "WF", "AT", "BE",
    "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV",
    "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO", "CH", "GB",
];

/// An address as given: lines 1 to 5, the postcode, the city and the country (ISO 3166-1
/// alpha-2); line 6 is made of the postcode and the city.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddressInput {
    pub lines: [Option<String>; 5],
    pub postal_code: String,
    pub city: String,
    pub country: String,
}

/// An address that passed every rule: six lines (empty ones `None`) and the country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalAddress {
    pub lines: [Option<String>; 6],
    pub country: String,
}

impl PostalAddress {
    /// The lines as stored (six, empty ones as empty strings).
    pub fn stored_lines(&self) -> Vec<String> {
        self.lines
            .iter()
            .map(|l| l.clone().unwrap_or_default())
            .collect()
    }

    /// From stored lines.
    pub fn from_stored(lines: &[String], country: &str) -> Self {
        let mut out: [Option<String>; 6] = Default::default();
        for (slot, line) in out.iter_mut().zip(lines) {
            *slot = (!line.is_empty()).then(|| line.clone());
        }
        Self {
            lines: out,
            country: country.to_owned(),
        }
    }

    /// Line 1 or, without it, line 2: whom the letter is for.
    pub fn recipient(&self) -> &str {
        self.lines[0]
            .as_deref()
            .or(self.lines[1].as_deref())
            .unwrap_or_default()
    }
}

/// The postcode prefix each place using French postcodes has (France itself: any but the
/// overseas ones, checked apart).
fn postcode_prefix(country: &str) -> Option<&'static str> {
    Some(match country {
        "MC" => "980",
        "GP" => "971",
        "MQ" => "972",
        "GF" => "973",
        "RE" => "974",
        "PM" => "97500",
        "YT" => "976",
        "BL" => "97133",
        "MF" => "97150",
        _ => return None,
    })
}

fn collapse(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn check_line(field: &str, value: &str, problems: &mut Vec<Invalid>) {
    if let Some(c) = value.chars().find_map(refused_character) {
        problems.push(Invalid::new(field, format!("contains {c}")));
    }
    let length = value.chars().count();
    if length > MAX_LINE {
        problems.push(Invalid::new(
            field,
            format!("has {length} characters; a postal address line has at most {MAX_LINE}"),
        ));
    }
}

fn check_postcode(country: &str, code: &str, problems: &mut Vec<Invalid>) {
    let field = "postalCode";
    let digits5 = code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit());
    match country {
        "FR" => {
            let department = code.get(..2).and_then(|d| d.parse::<u32>().ok());
            let metropolitan = department.is_some_and(|d| (1..=95).contains(&d));
            let overseas = code.starts_with("97") || code.starts_with("98");
            if !digits5 || !(metropolitan || overseas) || code == "00000" {
                problems.push(Invalid::new(field, "is not a French postcode (5 digits)"));
            }
        }
        "AD" => {
            let ok = code.len() == 5
                && code.starts_with("AD")
                && code[2..].bytes().all(|b| b.is_ascii_digit());
            if !ok {
                problems.push(Invalid::new(
                    field,
                    "is not an Andorran postcode (AD and 3 digits)",
                ));
            }
        }
        _ => match postcode_prefix(country) {
            Some(prefix) if !(digits5 && code.starts_with(prefix)) => problems.push(Invalid::new(
                field,
                format!("is not a postcode of {country} (5 digits starting {prefix})"),
            )),
            Some(_) => {}
            None if code.is_empty() && !matches!(country, "IE") => {
                problems.push(Invalid::new(field, "is required"));
            }
            None => {}
        },
    }
}

/// Checks `input` for a letter of `kind`: the address as it will be printed, or every rule it
/// breaks, each naming its field (`lines[0]`…, `postalCode`, `city`, `country`).
///
/// # Errors
/// The rules broken.
pub fn check(input: &AddressInput, kind: ShipmentKind) -> Result<PostalAddress, Vec<Invalid>> {
    let mut problems = Vec::new();
    let mut lines: [Option<String>; 6] = Default::default();
    for (i, line) in input.lines.iter().enumerate() {
        let value = line.as_deref().map(collapse).filter(|l| !l.is_empty());
        if let Some(value) = &value {
            check_line(&format!("lines[{i}]"), value, &mut problems);
        }
        lines[i] = value;
    }
    if lines[0].is_none() && lines[1].is_none() {
        problems.push(Invalid::new(
            "lines[0]",
            "line 1 or line 2 must name the recipient",
        ));
    }
    let country = input.country.trim().to_uppercase();
    let allowed = match kind {
        ShipmentKind::SimpleLetter => SIMPLE_COUNTRIES,
        ShipmentKind::RegisteredLetter => REGISTERED_COUNTRIES,
    };
    if !allowed.contains(&country.as_str()) {
        problems.push(Invalid::new(
            "country",
            format!(
                "{country:?} is not a country a {} reaches",
                kind.description()
            ),
        ));
    }
    let postal_code = input
        .postal_code
        .split_whitespace()
        .collect::<String>()
        .to_uppercase();
    check_postcode(&country, &postal_code, &mut problems);
    let city = collapse(&input.city).to_uppercase();
    if city.is_empty() {
        problems.push(Invalid::new("city", "is required"));
    }
    let locality = collapse(&format!("{postal_code} {city}"));
    check_line("city", &locality, &mut problems);
    lines[5] = Some(locality);
    if problems.is_empty() {
        Ok(PostalAddress { lines, country })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn input(lines: [&str; 5], postal_code: &str, city: &str, country: &str) -> AddressInput {
        AddressInput {
            lines: lines.map(|l| (!l.is_empty()).then(|| l.to_owned())),
            postal_code: postal_code.into(),
            city: city.into(),
            country: country.into(),
        }
    }

    fn fields(result: Result<PostalAddress, Vec<Invalid>>) -> Vec<String> {
        result
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.field)
            .collect()
    }

    #[test]
    fn a_french_address_is_printed_in_six_lines() {
        let address = check(
            &input(
                [
                    "Mme Ada Lovelace",
                    "",
                    "Bâtiment B",
                    "12  rue  des Lilas",
                    "",
                ],
                "75011",
                "Paris",
                "fr",
            ),
            ShipmentKind::RegisteredLetter,
        )
        .expect("valid");
        assert_eq!(address.lines[3].as_deref(), Some("12 rue des Lilas"));
        assert_eq!(address.lines[5].as_deref(), Some("75011 PARIS"));
        assert_eq!(address.country, "FR");
        assert_eq!(address.recipient(), "Mme Ada Lovelace");
    }

    #[test]
    fn every_broken_rule_is_named() {
        let long = "x".repeat(39);
        let problems = fields(check(
            &input(["", "", &long, "", ""], "7501", "", "US"),
            ShipmentKind::SimpleLetter,
        ));
        for field in ["lines[2]", "lines[0]", "country", "city"] {
            assert!(
                problems.contains(&field.to_owned()),
                "{field} in {problems:?}"
            );
        }
        assert!(fields(check(
            &input(["A", "", "", "", ""], "7501", "Paris", "FR"),
            ShipmentKind::SimpleLetter
        ))
        .contains(&"postalCode".to_owned()));
    }

    #[test]
    fn overseas_places_use_their_own_postcodes_and_registered_letters_stay_within_reach() {
        let ok = |code: &str, country: &str, kind| {
            check(
                &input(["A", "", "", "1 rue", ""], code, "Ville", country),
                kind,
            )
            .is_ok()
        };
        assert!(ok("97400", "RE", ShipmentKind::RegisteredLetter));
        assert!(!ok("75001", "RE", ShipmentKind::RegisteredLetter));
        assert!(ok("98000", "MC", ShipmentKind::RegisteredLetter));
        assert!(ok("AD500", "AD", ShipmentKind::RegisteredLetter));
        assert!(ok("97411", "FR", ShipmentKind::SimpleLetter));
        assert!(ok("10117", "DE", ShipmentKind::SimpleLetter));
        assert!(!ok("10117", "DE", ShipmentKind::RegisteredLetter));
        assert!(!ok("96000", "FR", ShipmentKind::SimpleLetter));
    }

    #[test]
    fn a_city_too_long_for_line_six_is_refused() {
        let city = "Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson";
        assert!(fields(check(
            &input(["A", "", "", "", ""], "51290", city, "FR"),
            ShipmentKind::SimpleLetter
        ))
        .contains(&"city".to_owned()));
    }

    fn line() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[A-Za-z0-9 'éèàç,-]{0,50}").expect("regex")
    }

    proptest! {
        /// Whatever the input, an accepted address prints within the rules, and an input
        /// breaking a rule is never accepted.
        #[test]
        fn accepted_addresses_keep_the_rules(
            lines in proptest::array::uniform5(proptest::option::of(line())),
            postal_code in proptest::string::string_regex("[0-9A-Z]{0,6}").expect("regex"),
            city in line(),
            country in proptest::sample::select(vec!["FR", "RE", "MC", "AD", "DE", "US", "fr"]),
            registered in any::<bool>(),
        ) {
            let kind = if registered { ShipmentKind::RegisteredLetter } else { ShipmentKind::SimpleLetter };
            let given = AddressInput { lines: lines.clone(), postal_code: postal_code.clone(), city: city.clone(), country: country.to_owned() };
            let too_long = lines.iter().flatten().any(|l| collapse(l).chars().count() > MAX_LINE);
            match check(&given, kind) {
                Ok(address) => {
                    prop_assert!(!too_long);
                    prop_assert!(address.lines.iter().flatten().all(|l| l.chars().count() <= MAX_LINE && !l.is_empty()));
                    prop_assert!(address.lines[0].is_some() || address.lines[1].is_some());
                    let last = address.lines[5].clone().unwrap_or_default();
                    if address.country == "FR" {
                        let (code, rest) = last.split_at(5);
                        prop_assert!(code.bytes().all(|b| b.is_ascii_digit()), "{last}");
                        prop_assert!(rest.starts_with(' ') && rest.len() > 1, "{last}");
                    }
                    let allowed = if registered { REGISTERED_COUNTRIES } else { SIMPLE_COUNTRIES };
                    prop_assert!(allowed.contains(&address.country.as_str()));
                }
                Err(problems) => prop_assert!(!problems.is_empty()),
            }
        }

        /// A valid French address with any street is accepted, its lines kept.
        #[test]
        fn valid_french_addresses_are_accepted(
            name in "[A-Z][a-z]{1,20}( [A-Z][a-z]{1,15})?",
            street in "[1-9][0-9]{0,2} rue [a-z]{1,20}",
            department in 1u32..=95,
            rest in 0u32..1000,
            city in "[A-Z][a-z]{1,20}",
        ) {
            let code = format!("{department:02}{rest:03}");
            let given = input([&name, "", "", &street, ""], &code, &city, "FR");
            let address = check(&given, ShipmentKind::RegisteredLetter);
            prop_assert!(address.is_ok(), "{:?}", address);
            let address = address.unwrap_or_else(|_| unreachable!());
            prop_assert_eq!(address.lines[0].as_deref(), Some(name.as_str()));
            prop_assert_eq!(address.lines[5].clone(), Some(format!("{code} {}", city.to_uppercase())));
        }
    }
}
