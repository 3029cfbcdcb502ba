//! Plausible French business data for the demo and the seeder: people's and companies'
//! names, towns with their postal codes, valid SIRENs, SIRETs and VAT numbers. Everything is
//! derived from an index, so the same index always gives the same client.

use subgraph_kit::identifiers::{with_luhn_digit, Siren, VatNumber};

pub const FIRST_NAMES: &[&str] = &[
    "Léa", "Hugo", "Chloé", "Louis", "Emma", "Gabriel", "Manon", "Jules", "Camille", "Arthur",
    "Inès", "Raphaël", "Sarah", "Nathan", "Jade", "Lucas", "Louise", "Adam", "Alice", "Paul",
    "Zoé", "Théo", "Lina", "Maël", "Rose", "Tom", "Anna", "Noah", "Juliette", "Sacha",
];

pub const LAST_NAMES: &[&str] = &[
    "Martin",
    "Bernard",
    "Thomas",
    "Petit",
    "Robert",
    "Richard",
    "Durand",
    "Dubois",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefèvre",
    "Leroy",
    "Roux",
    "David",
    "Bertrand",
    "Morel",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Muller",
    "Lefebvre",
    "Faure",
    "André",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "François",
    "Legrand",
    "Gauthier",
    "Garcia",
];

const TRADES: &[&str] = &[
    "Boulangerie",
    "Garage",
    "Cabinet",
    "Pharmacie",
    "Menuiserie",
    "Librairie",
    "Transports",
    "Fromagerie",
    "Imprimerie",
    "Plomberie",
    "Atelier",
    "Domaine",
];

/// (town, postal code, street).
pub const TOWNS: &[(&str, &str, &str)] = &[
    ("Paris", "75011", "rue de la Roquette"),
    ("Lyon", "69002", "rue Mercière"),
    ("Marseille", "13001", "la Canebière"),
    ("Toulouse", "31000", "rue d'Alsace-Lorraine"),
    ("Nantes", "44000", "quai de la Fosse"),
    ("Bordeaux", "33000", "cours de l'Intendance"),
    ("Lille", "59000", "rue Esquermoise"),
    ("Strasbourg", "67000", "rue des Hallebardes"),
    ("Rennes", "35000", "rue de la Monnaie"),
    ("Montpellier", "34000", "rue de la Loge"),
    ("Nice", "06000", "rue de France"),
    ("Grenoble", "38000", "rue Félix-Poulat"),
    ("Dijon", "21000", "rue de la Liberté"),
    ("Angers", "49100", "rue Lenepveu"),
    ("Tours", "37000", "rue Nationale"),
];

/// One client's identity, derived from its index.
#[derive(Debug, Clone)]
pub struct SampleClient {
    pub company: bool,
    /// Last name of a person, name of a company.
    pub name: String,
    pub first_name: Option<String>,
    pub email: String,
    pub phone: String,
    pub siren: Option<String>,
    pub vat_number: Option<String>,
    pub line1: String,
    pub postal_code: String,
    pub city: String,
}

/// The `index`-th client: one in four is a company.
pub fn client(index: u64) -> SampleClient {
    let pick =
        |list: &[&'static str], salt: u64| list[((index * 7 + salt) % list.len() as u64) as usize];
    let (city, postal_code, street) = TOWNS[(index % TOWNS.len() as u64) as usize];
    let line1 = format!("{} {street}", 1 + index % 120);
    let phone = format!(
        "06 {:02} {:02} {:02} {:02}",
        index / 1_000_000 % 100,
        index / 10_000 % 100,
        index / 100 % 100,
        index % 100
    );
    if index % 4 == 3 {
        let name = format!("{} {}", pick(TRADES, 3), pick(LAST_NAMES, 5));
        let siren = siren(index);
        let slug = ascii_slug(&name);
        SampleClient {
            company: true,
            email: format!("contact.{index}@{slug}.example"),
            vat_number: Some(vat_number(&siren)),
            siren: Some(siren),
            name,
            first_name: None,
            phone,
            line1,
            postal_code: postal_code.to_owned(),
            city: city.to_owned(),
        }
    } else {
        let first = pick(FIRST_NAMES, 0);
        let last = pick(LAST_NAMES, index / 3);
        SampleClient {
            company: false,
            email: format!(
                "{}.{}.{index}@example.fr",
                ascii_slug(first),
                ascii_slug(last)
            ),
            name: last.to_owned(),
            first_name: Some(first.to_owned()),
            siren: None,
            vat_number: None,
            phone,
            line1,
            postal_code: postal_code.to_owned(),
            city: city.to_owned(),
        }
    }
}

/// A valid SIREN unique to `index` (below 10 million): 8 digits from the index, then the
/// Luhn digit. They start with 9, which INSEE has not allotted, so no real company is named.
pub fn siren(index: u64) -> String {
    with_luhn_digit(&format!("9{:07}", index % 10_000_000))
}

/// The head office SIRET of `siren` (NIC 00010, adjusted to pass Luhn).
pub fn siret(siren: &str) -> String {
    with_luhn_digit(&format!("{siren}0001"))
}

/// The French VAT number of `siren` (`FR` + key + SIREN).
pub fn vat_number(siren: &str) -> String {
    Siren::parse("siren", siren)
        .map(|siren| VatNumber::french(&siren).into_inner())
        .unwrap_or_default()
}

/// Lowercase ASCII letters and digits of `text`, accents dropped, words joined by `-`.
pub fn ascii_slug(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        let c = match c {
            'é' | 'è' | 'ê' | 'ë' | 'É' => 'e',
            'à' | 'â' => 'a',
            'î' | 'ï' => 'i',
            'ô' => 'o',
            'û' | 'ü' | 'ù' => 'u',
            'ç' => 'c',
            other => other.to_ascii_lowercase(),
        };
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use subgraph_kit::identifiers::Siret;

    #[test]
    fn generated_identifiers_are_valid_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for index in [0, 1, 2, 3, 99, 1234, 99_999, 9_999_999] {
            let siren = siren(index);
            let parsed = Siren::parse("siren", &siren).unwrap();
            assert!(Siret::parse("siret", &siret(&siren), &parsed).is_ok());
            assert!(VatNumber::parse("vat", &vat_number(&siren), Some(&parsed)).is_ok());
            assert!(seen.insert(siren));
        }
    }

    #[test]
    fn clients_are_persons_and_companies_with_clean_emails() {
        let companies = (0..40).filter(|i| client(*i).company).count();
        assert_eq!(companies, 10);
        for index in 0..40 {
            let c = client(index);
            assert!(c.email.is_ascii() && c.email.contains('@'), "{}", c.email);
            assert_eq!(c.company, c.siren.is_some());
        }
        assert_eq!(ascii_slug("Lefèvre & Fils"), "lefevre-fils");
    }
}
