//! A société: a legal entity of the organisation, identified by its SIREN, that issues
//! invoices and signs contracts.

use super::{
    clean_text, country_code,
    identifiers::{Siren, Siret, VatNumber},
    optional_text, Invalid,
};

/// A postal address as printed on legal documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalAddress {
    pub line1: String,
    pub line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    pub country: String,
}

impl PostalAddress {
    pub fn parse(
        prefix: &str,
        line1: &str,
        line2: Option<&str>,
        postal_code: &str,
        city: &str,
        country: Option<&str>,
    ) -> Result<Self, Invalid> {
        let country = country_code(&format!("{prefix}.country"), country.unwrap_or("FR"))?;
        let postal_code = clean_text(&format!("{prefix}.postalCode"), postal_code, 16)?;
        if country == "FR"
            && (postal_code.len() != 5 || !postal_code.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(Invalid::new(
                format!("{prefix}.postalCode"),
                "a French postal code has 5 digits",
            ));
        }
        Ok(Self {
            line1: clean_text(&format!("{prefix}.line1"), line1, 200)?,
            line2: optional_text(&format!("{prefix}.line2"), line2, 200)?,
            postal_code,
            city: clean_text(&format!("{prefix}.city"), city, 100)?,
            country,
        })
    }
}

/// A valid société, ready to store.
#[derive(Debug, Clone)]
pub struct SocieteFields {
    pub name: String,
    pub siren: String,
    pub siret: Option<String>,
    pub vat_number: Option<String>,
    pub address: Option<PostalAddress>,
}

/// Raw société input, as any API shape gives it.
#[derive(Debug, Clone, Default)]
pub struct SocieteInput<'a> {
    pub name: &'a str,
    pub siren: &'a str,
    pub siret: Option<&'a str>,
    pub vat_number: Option<&'a str>,
    pub address: Option<PostalAddress>,
}

impl SocieteFields {
    pub fn parse(input: SocieteInput<'_>) -> Result<Self, Invalid> {
        let siren = Siren::parse("siren", input.siren)?;
        let siret = input
            .siret
            .filter(|s| !s.trim().is_empty())
            .map(|s| Siret::parse("siret", s, &siren))
            .transpose()?;
        let vat_number = input
            .vat_number
            .filter(|s| !s.trim().is_empty())
            .map(|s| VatNumber::parse("vatNumber", s, Some(&siren)))
            .transpose()?;
        Ok(Self {
            name: clean_text("name", input.name, 200)?,
            siren: siren.into_inner(),
            siret: siret.map(Siret::into_inner),
            vat_number: vat_number.map(VatNumber::into_inner),
            address: input.address,
        })
    }
}
