//! What a letter may carry: one PDF of at most 20 MB (Maileva's limit per document and per
//! sending) and at most 45 sheets with the address sheet (a C4 envelope's capacity).

use subgraph_kit::error::Invalid;

/// Largest document, in bytes.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;
/// Most sheets a letter holds, the address sheet included.
pub const MAX_SHEETS: u32 = 45;

/// A PDF that passed the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedPdf {
    pub pages: u32,
}

/// Checks that `bytes` are a readable PDF within the size limit.
///
/// # Errors
/// `field` is not a PDF, is unreadable, empty or too large.
pub fn check_pdf(field: &str, bytes: &[u8]) -> Result<CheckedPdf, Invalid> {
    if bytes.len() > MAX_BYTES {
        return Err(Invalid::new(
            field,
            format!(
                "is {} bytes; a letter's document has at most {MAX_BYTES} bytes (20 MB)",
                bytes.len()
            ),
        ));
    }
    if !bytes.starts_with(b"%PDF-") {
        return Err(Invalid::new(field, "is not a PDF"));
    }
    let document = lopdf::Document::load_mem(bytes)
        .map_err(|_| Invalid::new(field, "is not a readable PDF"))?;
    let pages = u32::try_from(document.get_pages().len()).unwrap_or(u32::MAX);
    if pages == 0 {
        return Err(Invalid::new(field, "has no page"));
    }
    Ok(CheckedPdf { pages })
}

/// The sheets a letter of `pages` takes, printed on both sides or not, with its address sheet.
pub fn sheets(pages: u32, duplex: bool) -> u32 {
    let printed = if duplex { pages.div_ceil(2) } else { pages };
    printed + 1
}

/// Checks that the letter fits its envelope.
///
/// # Errors
/// Too many sheets.
pub fn check_sheets(pages: u32, duplex: bool) -> Result<u32, Invalid> {
    let sheets = sheets(pages, duplex);
    if sheets > MAX_SHEETS {
        return Err(Invalid::new(
            "document",
            format!("takes {sheets} sheets; a letter holds at most {MAX_SHEETS}"),
        ));
    }
    Ok(sheets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_readable_pdfs_within_the_limits_pass() {
        assert!(check_pdf("document", b"hello").is_err());
        assert!(check_pdf("document", b"%PDF-1.7 garbage").is_err());
        assert!(check_pdf("document", &vec![b' '; MAX_BYTES + 1]).is_err());
        assert_eq!(sheets(3, false), 4);
        assert_eq!(sheets(3, true), 3);
        assert!(check_sheets(44, false).is_ok());
        assert!(check_sheets(45, false).is_err());
        assert!(check_sheets(88, true).is_ok());
    }
}
