//! Clients: people and companies the organisation sells to.
//!
//! Rules: a person has a first and a last name; a company has a legal name and may have a
//! SIREN and VAT number (which must agree). E-mail and phone are normalised so that the
//! duplicate rule (same phone and name in one organisation) holds however they were typed.

use chrono::NaiveDate;

use super::{
    clean_text,
    contact::{Email, Phone},
    identifiers::{Siren, VatNumber},
    optional_text, Invalid,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type, async_graphql::Enum)]
#[sqlx(type_name = "client_kind", rename_all = "lowercase")]
pub enum ClientKind {
    Person,
    Company,
}

/// Where a client stands commercially. Any status may follow any other: these are labels
/// chosen by people, not a process (a suspended client can be reactivated, a prospect lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type, async_graphql::Enum)]
#[sqlx(type_name = "client_status", rename_all = "lowercase")]
pub enum ClientStatus {
    Prospect,
    Active,
    Inactive,
    Suspended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type, async_graphql::Enum)]
#[sqlx(type_name = "address_kind", rename_all = "lowercase")]
pub enum AddressKind {
    Billing,
    Shipping,
    Other,
}

/// The longest payment term accepted, in days.
pub const MAX_PAYMENT_TERMS_DAYS: i32 = 365;

/// A valid client's fields (everything but ids and timestamps).
#[derive(Debug, Clone, PartialEq)]
pub struct ClientFields {
    pub kind: ClientKind,
    pub status: ClientStatus,
    pub name: String,
    pub first_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub siren: Option<String>,
    pub vat_number: Option<String>,
    pub payment_terms_days: i32,
}

/// Raw client input, whole (creation) or merged over the stored client (update).
#[derive(Debug, Clone)]
pub struct ClientInput {
    pub kind: ClientKind,
    pub status: ClientStatus,
    pub name: String,
    pub first_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub siren: Option<String>,
    pub vat_number: Option<String>,
    pub payment_terms_days: i32,
}

impl ClientFields {
    /// Checks every rule; `today` bounds birth dates.
    pub fn parse(input: ClientInput, today: NaiveDate) -> Result<Self, Invalid> {
        let name = clean_text("name", &input.name, 200)?;
        let first_name = optional_text("firstName", input.first_name.as_deref(), 100)?;
        let email = input
            .email
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .map(|e| Email::parse("email", e).map(Email::into_inner))
            .transpose()?;
        let phone = input
            .phone
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| Phone::parse("phone", p).map(Phone::into_inner))
            .transpose()?;
        if let Some(birth) = input.birth_date {
            if birth > today {
                return Err(Invalid::new(
                    "birthDate",
                    "a birth date cannot be in the future",
                ));
            }
            if today.years_since(birth).is_some_and(|age| age > 130) {
                return Err(Invalid::new(
                    "birthDate",
                    "this birth date is implausibly old",
                ));
            }
        }
        if !(0..=MAX_PAYMENT_TERMS_DAYS).contains(&input.payment_terms_days) {
            return Err(Invalid::new(
                "paymentTermsDays",
                format!("payment terms are between 0 and {MAX_PAYMENT_TERMS_DAYS} days"),
            ));
        }
        let siren = input
            .siren
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| Siren::parse("siren", s))
            .transpose()?;
        let vat_number = input
            .vat_number
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| VatNumber::parse("vatNumber", s, siren.as_ref()))
            .transpose()?;
        match input.kind {
            ClientKind::Person => {
                if first_name.is_none() {
                    return Err(Invalid::new("firstName", "a person needs a first name"));
                }
                if siren.is_some() || vat_number.is_some() {
                    return Err(Invalid::new(
                        "siren",
                        "SIREN and VAT number belong to companies",
                    ));
                }
            }
            ClientKind::Company => {
                if input.birth_date.is_some() {
                    return Err(Invalid::new("birthDate", "a company has no birth date"));
                }
            }
        }
        Ok(Self {
            kind: input.kind,
            status: input.status,
            name,
            first_name,
            email,
            phone,
            birth_date: input.birth_date,
            siren: siren.map(Siren::into_inner),
            vat_number: vat_number.map(VatNumber::into_inner),
            payment_terms_days: input.payment_terms_days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> ClientInput {
        ClientInput {
            kind: ClientKind::Person,
            status: ClientStatus::Active,
            name: "  Dupont ".into(),
            first_name: Some("Jeanne".into()),
            email: Some("Jeanne.Dupont@Example.fr".into()),
            phone: Some("06 12 34 56 78".into()),
            birth_date: NaiveDate::from_ymd_opt(1980, 5, 17),
            siren: None,
            vat_number: None,
            payment_terms_days: 30,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    #[test]
    fn a_person_is_normalised() {
        let client = ClientFields::parse(person(), today()).unwrap();
        assert_eq!(client.name, "Dupont");
        assert_eq!(client.email.as_deref(), Some("jeanne.dupont@example.fr"));
        assert_eq!(client.phone.as_deref(), Some("+33612345678"));
    }

    #[test]
    fn rules_name_the_field_they_break() {
        type Change = Box<dyn Fn(&mut ClientInput)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|c| c.name = " ".into()), "name"),
            (Box::new(|c| c.first_name = None), "firstName"),
            (Box::new(|c| c.email = Some("nope".into())), "email"),
            (Box::new(|c| c.phone = Some("123".into())), "phone"),
            (
                Box::new(|c| c.birth_date = NaiveDate::from_ymd_opt(2030, 1, 1)),
                "birthDate",
            ),
            (Box::new(|c| c.payment_terms_days = -1), "paymentTermsDays"),
            (Box::new(|c| c.siren = Some("732829320".into())), "siren"),
        ];
        for (change, field) in cases {
            let mut input = person();
            change(&mut input);
            assert_eq!(
                ClientFields::parse(input, today()).unwrap_err().field,
                field
            );
        }
    }

    #[test]
    fn a_company_vat_number_must_match_its_siren() {
        let mut input = person();
        input.kind = ClientKind::Company;
        input.first_name = None;
        input.birth_date = None;
        input.siren = Some("732829320".into());
        input.vat_number = Some("FR44732829320".into());
        assert!(ClientFields::parse(input.clone(), today()).is_ok());
        input.vat_number = Some("FR44552100554".into());
        assert_eq!(
            ClientFields::parse(input, today()).unwrap_err().field,
            "vatNumber"
        );
    }
}
