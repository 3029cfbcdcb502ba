//! Text inputs, the same way in every subgraph: trimmed, inner whitespace collapsed, bounded
//! in length, errors naming the input field.

use crate::error::Invalid;

/// Trims and collapses inner whitespace; refuses empty or longer than `max` characters.
pub fn clean_text(field: &str, value: &str, max: usize) -> Result<String, Invalid> {
    let cleaned = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if cleaned.is_empty() {
        return Err(Invalid::new(field, "must not be empty"));
    }
    if cleaned.chars().count() > max {
        return Err(Invalid::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(cleaned)
}

/// Like [`clean_text`], but an empty or blank value means "none".
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, Invalid> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => clean_text(field, v, max).map(Some),
    }
}

/// An ISO 3166-1 alpha-2 country code, upper-cased.
pub fn country_code(field: &str, value: &str) -> Result<String, Invalid> {
    let code = value.trim().to_ascii_uppercase();
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(Invalid::new(
            field,
            "must be a two-letter ISO country code such as FR",
        ))
    }
}
