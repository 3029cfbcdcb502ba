//! Text inputs, the same way in every subgraph: no hostile characters, trimmed, inner
//! whitespace collapsed, bounded in length, errors naming the input field.
//!
//! Hostile characters are refused in every string a request carries, before anything runs
//! ([`crate::guard`] applies [`refused_character`] to every argument and variable): NUL (which
//! PostgreSQL refuses), other control characters except tab and line breaks, and the
//! bidirectional embeddings, overrides and isolates that make text display other than it
//! reads. Invisible characters that copy and paste bring along (zero-width space, word joiner,
//! byte-order mark, direction marks) are dropped from single-line text by [`clean_text`].

use crate::error::Invalid;

/// Why `c` may not stand in any text input, if it may not.
pub fn refused_character(c: char) -> Option<&'static str> {
    match c {
        '\t' | '\n' | '\r' => None,
        '\0' => Some("must not contain a NUL character"),
        c if c.is_control() => Some("must not contain control characters"),
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
            Some("must not contain bidirectional override characters")
        }
        _ => None,
    }
}

/// The first reason why `value` may not be a text input, if any.
pub fn refused_text(value: &str) -> Option<&'static str> {
    value.chars().find_map(refused_character)
}

/// Characters that show nothing and mean nothing in a name or a label.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// Refuses hostile characters, drops invisible ones, trims and collapses inner whitespace
/// (line breaks included); refuses empty or longer than `max` characters.
pub fn clean_text(field: &str, value: &str, max: usize) -> Result<String, Invalid> {
    if let Some(reason) = refused_text(value) {
        return Err(Invalid::new(field, reason));
    }
    let visible: String = value.chars().filter(|c| !invisible(*c)).collect();
    let cleaned = visible.split_whitespace().collect::<Vec<_>>().join(" ");
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

/// Refuses what is not an e-mail address (a local part, `@`, a domain with a dot); the
/// mailer's own check is the last word.
pub fn check_email(field: &str, email: &str) -> Result<(), Invalid> {
    let ok = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if ok {
        Ok(())
    } else {
        Err(Invalid::new(field, "is not an e-mail address"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_characters_are_refused() {
        for hostile in [
            "a\0b",
            "\u{7}bell",
            "esc\u{1b}[31m",
            "del\u{7f}",
            "c1\u{85}",
            "\u{202E}fdp.exe",
            "iso\u{2066}late",
        ] {
            assert!(refused_text(hostile).is_some(), "{hostile:?}");
            assert!(clean_text("name", hostile, 100).is_err(), "{hostile:?}");
        }
        assert_eq!(
            refused_text("nul\0"),
            Some("must not contain a NUL character")
        );
    }

    #[test]
    fn ordinary_text_passes_and_invisible_characters_go() {
        for ordinary in [
            "Société Générale",
            "ligne 1\nligne 2\tfin\r\n",
            "👩‍👩‍👧 famille",
            "עברית",
        ] {
            assert_eq!(refused_text(ordinary), None, "{ordinary:?}");
        }
        assert_eq!(
            clean_text("name", "\u{FEFF}Dupont\u{200B} \u{200E}et  fils\n", 100).unwrap(),
            "Dupont et fils"
        );
        assert!(
            clean_text("name", "\u{200B}", 100).is_err(),
            "nothing visible is empty"
        );
    }
}
