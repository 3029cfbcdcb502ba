//! Contact details: e-mail addresses (lower-cased) and phone numbers normalised to E.164, so
//! that duplicates are found whatever way a number was typed ("06 12 34 56 78",
//! "+33 6 12 34 56 78" and "0033612345678" are one number).

use super::Invalid;

/// A plausible e-mail address, lower-cased. Deliverability is the mailer's business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, value: &str) -> Result<Self, Invalid> {
        let email = value.trim().to_lowercase();
        let invalid = || Invalid::new(field, "not a valid e-mail address");
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .split('.')
                .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A phone number in E.164 form (`+33612345678`). French national numbers (10 digits
/// starting with 0) get the +33 prefix; others must be given with their country prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(field: &str, value: &str) -> Result<Self, Invalid> {
        let trimmed = value.trim();
        let invalid = || {
            Invalid::new(
                field,
                "not a valid phone number (e.g. 06 12 34 56 78 or +33 6 12 34 56 78)",
            )
        };
        if trimmed
            .chars()
            .any(|c| !(c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')' | '+')))
        {
            return Err(invalid());
        }
        let plus = trimmed.starts_with('+');
        if trimmed.rfind('+').is_some_and(|i| i > 0) {
            return Err(invalid());
        }
        let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
        let international = if plus {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_owned()
        } else if digits.len() == 10 && digits.starts_with('0') {
            format!("33{}", &digits[1..])
        } else {
            return Err(invalid());
        };
        // French numbers have 9 digits after +33, the national 0 dropped.
        if let Some(national) = international.strip_prefix("33") {
            if national.len() != 9 || national.starts_with('0') {
                return Err(invalid());
            }
        }
        if !(8..=15).contains(&international.len()) || international.starts_with('0') {
            return Err(invalid());
        }
        Ok(Self(format!("+{international}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_numbers_normalise_to_one_form() {
        for written in [
            "06 12 34 56 78",
            "+33 6 12 34 56 78",
            "0033612345678",
            "06.12.34.56.78",
            "+33612345678",
        ] {
            assert_eq!(
                Phone::parse("phone", written).unwrap().as_str(),
                "+33612345678",
                "{written}"
            );
        }
    }

    #[test]
    fn malformed_phone_numbers_are_refused() {
        for written in [
            "",
            "12345",
            "06 12 34 56 7",
            "+33 06 12 34 56 78",
            "06-12-34-56-78-99",
            "abc",
            "+4+4123456789",
            "6 12 34 56 78",
        ] {
            assert!(Phone::parse("phone", written).is_err(), "{written}");
        }
        assert_eq!(
            Phone::parse("phone", "+44 20 7946 0958").unwrap().as_str(),
            "+442079460958"
        );
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            Email::parse("email", " Jean.Dupont@Example.FR ")
                .unwrap()
                .as_str(),
            "jean.dupont@example.fr"
        );
        for bad in [
            "",
            "jean",
            "jean@",
            "@example.fr",
            "jean@example",
            "jean dupont@example.fr",
            "jean@exa..mple.fr",
            "a@b@c.fr",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
    }
}
