//! Commercial rules as types and pure functions: money and VAT, product and contract
//! lifecycles, price and commission calculation. No I/O here, so every rule is unit- and
//! property-tested on its own.

pub mod commission;
pub mod contract;
pub mod money;
pub mod product;

use subgraph_kit::error::Invalid;

/// A required text: trimmed, not empty, at most `max` characters.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String, Invalid> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Invalid::new(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(Invalid::new(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// An optional text: trimmed, empty meaning none, at most `max` characters.
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, Invalid> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => required_text(field, v, max).map(Some),
    }
}
