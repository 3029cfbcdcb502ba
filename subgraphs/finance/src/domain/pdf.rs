//! The invoice as a PDF/A-3b document carrying its Factur-X XML: a readable page (or more)
//! with every mandatory mention, the CII XML embedded as `factur-x.xml` (AFRelationship
//! Data), embedded fonts, and XMP declaring PDF/A-3 and the Factur-X extension schema.
//!
//! krilla writes the document and validates it as PDF/A-3b (fonts, output intent, embedded
//! file entries); it builds the XMP itself without a hook for foreign schemas, so lopdf then
//! adds the Factur-X properties and their extension schema description to that XMP stream.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use krilla::{
    configure::{Archival, ConfigurationBuilder},
    embed::{AssociationKind, EmbeddedFile, MimeType},
    geom::Point,
    metadata::{DateTime, Metadata},
    page::PageSettings,
    text::{Font, TextDirection},
    Document as PdfDocument, SerializeSettings,
};
use rust_decimal::Decimal;

use super::{
    facturx::{mentions, Document, Party},
    invoice::InvoiceKind,
};

static REGULAR: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/DejaVuSans-Bold.ttf");

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 42.0;
const BOTTOM: f32 = HEIGHT - 60.0;

/// One piece of text at a place.
struct Text {
    x: f32,
    y: f32,
    size: f32,
    bold: bool,
    text: String,
}

/// Lays text out top to bottom, starting new pages as needed.
#[derive(Default)]
struct Layout {
    pages: Vec<Vec<Text>>,
    y: f32,
}

impl Layout {
    fn new() -> Self {
        Self {
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    fn at(&mut self, x: f32, size: f32, bold: bool, text: impl Into<String>) {
        if let Some(page) = self.pages.last_mut() {
            page.push(Text {
                x,
                y: self.y + size,
                size,
                bold,
                text: text.into(),
            });
        }
    }

    fn line(&mut self, size: f32, bold: bool, text: impl Into<String>) {
        self.room(size * 1.4);
        self.at(MARGIN, size, bold, text);
        self.y += size * 1.4;
    }

    /// A long text over several lines of at most `chars` characters.
    fn paragraph(&mut self, size: f32, text: &str, chars: usize) {
        let mut current = String::new();
        for word in text.split_whitespace() {
            if !current.is_empty() && current.chars().count() + word.chars().count() + 1 > chars {
                self.line(size, false, std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
        if !current.is_empty() {
            self.line(size, false, current);
        }
    }

    fn gap(&mut self, height: f32) {
        self.y += height;
    }

    /// Starts a new page unless `height` still fits.
    fn room(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }
}

fn money(amount: Decimal) -> String {
    let mut amount = amount;
    amount.rescale(2);
    let text = amount.to_string();
    let (units, cents) = text.split_once('.').unwrap_or((&text, "00"));
    let negative = units.starts_with('-');
    let digits: Vec<char> = units.trim_start_matches('-').chars().collect();
    let mut grouped = String::new();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('\u{202f}');
        }
        grouped.push(*c);
    }
    format!("{}{grouped},{cents} €", if negative { "-" } else { "" })
}

fn day(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn party_lines(p: &Party) -> Vec<String> {
    let mut lines = vec![];
    if let Some(l1) = &p.address_line1 {
        lines.push(l1.clone());
    }
    if let Some(l2) = &p.address_line2 {
        lines.push(l2.clone());
    }
    let city = format!(
        "{} {}",
        p.postal_code.clone().unwrap_or_default(),
        p.city.clone().unwrap_or_default()
    );
    if !city.trim().is_empty() {
        lines.push(format!("{} ({})", city.trim(), p.country));
    }
    if let Some(siren) = &p.siren {
        lines.push(format!("SIREN {siren}"));
    }
    if let Some(vat) = &p.vat_number {
        lines.push(format!("TVA intracommunautaire {vat}"));
    }
    lines
}

fn cut(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(chars.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

fn layout(doc: &Document) -> Layout {
    let mut l = Layout::new();
    parties_and_dates(&mut l, doc);
    l.gap(14.0);
    lines_table(&mut l, doc);
    totals(&mut l, doc);
    terms(&mut l, doc);
    l
}

/// The seller, the title and dates, the buyer.
fn parties_and_dates(l: &mut Layout, doc: &Document) {
    let title = match doc.kind {
        InvoiceKind::Invoice => "FACTURE",
        InvoiceKind::CreditNote => "AVOIR",
    };
    l.line(16.0, true, &doc.seller.name);
    for line in party_lines(&doc.seller) {
        l.line(9.0, false, line);
    }
    if let Some(info) = &doc.seller.legal_info {
        l.line(9.0, false, info);
    }
    l.gap(12.0);
    l.line(18.0, true, format!("{title} N° {}", doc.number));
    l.line(
        10.0,
        false,
        format!("Date d'émission : {}", day(doc.issue_date)),
    );
    l.line(
        10.0,
        false,
        format!(
            "Date de livraison / prestation : {}",
            day(doc.delivery_date)
        ),
    );
    if let Some((number, issued)) = &doc.original {
        l.line(
            10.0,
            false,
            format!("Avoir sur la facture {number} du {}", day(*issued)),
        );
    }
    if let Some(contract) = &doc.contract_reference {
        l.line(10.0, false, format!("Contrat : {contract}"));
    }
    l.gap(10.0);
    l.line(11.0, true, "Client");
    l.line(10.0, false, &doc.buyer.name);
    for line in party_lines(&doc.buyer) {
        l.line(9.0, false, line);
    }
    if let Some(delivery) = &doc.delivery_address {
        l.line(9.0, false, format!("Adresse de livraison : {delivery}"));
    }
}

/// The lines, one row each under a header.
fn lines_table(l: &mut Layout, doc: &Document) {
    let columns = [MARGIN, 300.0, 345.0, 380.0, 440.0, 490.0, 525.0];
    let header = [
        "Désignation",
        "Qté",
        "Unité",
        "PU HT",
        "Remise",
        "TVA",
        "Total HT",
    ];
    l.room(30.0);
    for (x, h) in columns.iter().zip(header) {
        l.at(*x, 8.5, true, h);
    }
    l.gap(14.0);
    for line in &doc.lines {
        l.room(14.0);
        let cells = [
            cut(&line.description, 48),
            line.quantity.normalize().to_string().replace('.', ","),
            line.unit_code.clone(),
            money(line.unit_price),
            money(line.discount),
            format!(
                "{} %",
                line.vat_rate.normalize().to_string().replace('.', ",")
            ),
            money(line.net),
        ];
        for (x, cell) in columns.iter().zip(cells) {
            l.at(*x, 8.5, false, cell);
        }
        l.gap(13.0);
    }
}

/// The VAT breakdown and the totals.
fn totals(l: &mut Layout, doc: &Document) {
    l.gap(10.0);
    l.line(10.0, true, "TVA");
    for group in &doc.breakdown {
        l.line(
            9.0,
            false,
            format!(
                "{} {} % : base {} — TVA {}",
                group.category.code(),
                group.rate.normalize().to_string().replace('.', ","),
                money(group.base),
                money(group.tax)
            ),
        );
    }
    l.gap(6.0);
    l.line(
        10.0,
        false,
        format!("Total HT : {}", money(doc.total_excl_vat)),
    );
    l.line(10.0, false, format!("Total TVA : {}", money(doc.total_vat)));
    l.line(
        12.0,
        true,
        format!("Total TTC : {}", money(doc.total_incl_vat)),
    );
    if doc.kind == InvoiceKind::Invoice {
        l.line(
            11.0,
            true,
            format!(
                "Net à payer : {} avant le {}",
                money(doc.total_incl_vat - doc.prepaid),
                day(doc.due_date)
            ),
        );
    }
}

/// Payment terms, bank details and the legal mentions.
fn terms(l: &mut Layout, doc: &Document) {
    l.gap(12.0);
    l.line(10.0, true, "Conditions et mentions légales");
    l.paragraph(
        8.5,
        &format!(
            "Paiement à {} jours, échéance le {}.",
            doc.payment_terms_days,
            day(doc.due_date)
        ),
        110,
    );
    if let Some(iban) = &doc.iban {
        let bic = doc
            .bic
            .as_deref()
            .map(|b| format!(" — BIC {b}"))
            .unwrap_or_default();
        l.paragraph(
            8.5,
            &format!("Règlement par virement : IBAN {iban}{bic}."),
            110,
        );
    }
    for (text, subject) in mentions(doc) {
        if subject != "REG" {
            l.paragraph(8.5, &text, 110);
        }
    }
}

fn pdf_date(d: NaiveDate) -> DateTime {
    DateTime::new(u16::try_from(d.year()).unwrap_or(2000))
        .month(u8::try_from(d.month()).unwrap_or(1))
        .day(u8::try_from(d.day()).unwrap_or(1))
        .hour(0)
        .minute(0)
        .second(0)
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

const FX_NAMESPACE: &str = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#";

/// The Factur-X XMP: its properties, and the PDF/A extension schema describing them (an
/// `rdf:li` for the `pdfaExtension:schemas` bag).
fn facturx_xmp(kind: InvoiceKind) -> (String, String) {
    let document_type = match kind {
        InvoiceKind::Invoice => "INVOICE",
        InvoiceKind::CreditNote => "INVOICE", // Factur-X has one type for both (the XML says 381)
    };
    let property = |name: &str, description: &str| {
        format!(
            "<rdf:li rdf:parseType=\"Resource\"><pdfaProperty:name>{name}</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>{description}</pdfaProperty:description></rdf:li>"
        )
    };
    let properties = format!(
        "<rdf:Description rdf:about=\"\" xmlns:fx=\"{FX_NAMESPACE}\"><fx:DocumentType>{document_type}</fx:DocumentType><fx:DocumentFileName>factur-x.xml</fx:DocumentFileName><fx:Version>1.0</fx:Version><fx:ConformanceLevel>EN 16931</fx:ConformanceLevel></rdf:Description>"
    );
    let schema = format!(
        "<rdf:li rdf:parseType=\"Resource\"><pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema><pdfaSchema:namespaceURI>{FX_NAMESPACE}</pdfaSchema:namespaceURI><pdfaSchema:prefix>fx</pdfaSchema:prefix><pdfaSchema:property><rdf:Seq>{}{}{}{}</rdf:Seq></pdfaSchema:property></rdf:li>",
        property("DocumentFileName", "The name of the embedded XML document"),
        property("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE or ORDER"),
        property("Version", "The actual version of the standard applying to the embedded XML document"),
        property("ConformanceLevel", "The conformance level of the embedded XML document"),
    );
    (properties, schema)
}

/// Adds the Factur-X properties to the document's XMP stream.
fn add_facturx_xmp(pdf: Vec<u8>, kind: InvoiceKind) -> Result<Vec<u8>, String> {
    let mut doc =
        lopdf::Document::load_mem(&pdf).map_err(|e| format!("cannot reread the PDF: {e}"))?;
    let metadata_ref = doc
        .catalog()
        .and_then(|catalog| catalog.get(b"Metadata"))
        .and_then(|m| m.as_reference())
        .map_err(|e| format!("the PDF has no XMP metadata: {e}"))?;
    let stream = doc
        .get_object_mut(metadata_ref)
        .and_then(|o| o.as_stream_mut())
        .map_err(|e| format!("the XMP metadata is not a stream: {e}"))?;
    let xmp = String::from_utf8(stream.content.clone())
        .map_err(|e| format!("the XMP is not UTF-8: {e}"))?;
    let Some(end) = xmp.rfind("</rdf:RDF>") else {
        return Err("the XMP has no rdf:RDF".into());
    };
    let (properties, schema) = facturx_xmp(kind);
    // One extension schemas bag: krilla writes one for the schemas it uses; ours joins it.
    const BAG: &str = "<pdfaExtension:schemas><rdf:Bag>";
    let updated = match xmp.find(BAG) {
        Some(at) => {
            let at = at + BAG.len();
            format!("{}{schema}{}{properties}{}", &xmp[..at], &xmp[at..end], &xmp[end..])
        }
        None => format!(
            "{}{properties}<rdf:Description rdf:about=\"\" xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\" xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\" xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\"><pdfaExtension:schemas><rdf:Bag>{schema}</rdf:Bag></pdfaExtension:schemas></rdf:Description>{}",
            &xmp[..end],
            &xmp[end..]
        ),
    };
    stream.set_plain_content(updated.into_bytes());
    let mut out = Vec::with_capacity(pdf.len() + 4096);
    doc.save_to(&mut out)
        .map_err(|e| format!("cannot write the PDF: {e}"))?;
    Ok(out)
}

/// A logo as the PDF can draw it: PNG or JPEG.
pub fn load_logo(bytes: &[u8]) -> Result<krilla::image::Image, String> {
    let data: krilla::Data = Arc::new(bytes.to_vec()).into();
    if bytes.starts_with(b"\x89PNG") {
        krilla::image::Image::from_png(data, false)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        krilla::image::Image::from_jpeg(data, false)
    } else {
        Err("not a PNG or JPEG image".into())
    }
}

/// Checks that `bytes` is a PNG or JPEG the PDF can draw, by drawing it (krilla decodes
/// images only when it writes them).
pub fn check_logo(bytes: &[u8]) -> Result<(), String> {
    let image = load_logo(bytes)?;
    let mut pdf = PdfDocument::new();
    let mut page = pdf.start_page_with(PageSettings::from_wh(10.0, 10.0).ok_or("bad page size")?);
    let mut surface = page.surface();
    let size = krilla::geom::Size::from_wh(10.0, 10.0).ok_or("bad size")?;
    surface.draw_image(image, size);
    surface.finish();
    page.finish();
    pdf.finish()
        .map(|_| ())
        .map_err(|e| format!("the image cannot be drawn: {e:?}"))
}

/// The PDF/A-3b of `doc`, with `xml` embedded as `factur-x.xml` and the seller's `logo` (PNG
/// or JPEG) at the top right of the first page.
pub fn render(doc: &Document, xml: &str, logo: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let logo = logo.map(load_logo).transpose()?;
    let regular = Font::new(REGULAR.into(), 0).ok_or("the regular font does not load")?;
    let bold = Font::new(BOLD.into(), 0).ok_or("the bold font does not load")?;
    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A3_B)
        .finish()
        .map_err(|e| format!("{e:?}"))?;
    let settings = SerializeSettings {
        configuration,
        ..SerializeSettings::default()
    };
    let mut pdf = PdfDocument::new_with(settings);
    let title = match doc.kind {
        InvoiceKind::Invoice => format!("Facture {}", doc.number),
        InvoiceKind::CreditNote => format!("Avoir {}", doc.number),
    };
    pdf.set_metadata(
        Metadata::new()
            .title(title)
            .authors(vec![doc.seller.name.clone()])
            .language("fr-FR".into())
            .creator("CRM".into())
            .creation_date(pdf_date(doc.issue_date)),
    );
    let embedded = EmbeddedFile {
        path: "factur-x.xml".into(),
        mime_type: MimeType::new("text/xml"),
        description: Some("Factur-X XML invoice".into()),
        association_kind: AssociationKind::Data,
        data: Arc::new(xml.as_bytes().to_vec()).into(),
        modification_date: Some(pdf_date(doc.issue_date)),
        compress: Some(true),
        location: None,
    };
    pdf.embed_file(embedded)
        .ok_or("factur-x.xml is embedded twice")?;
    for (index, texts) in layout(doc).pages.into_iter().enumerate() {
        let settings = PageSettings::from_wh(WIDTH, HEIGHT).ok_or("bad page size")?;
        let mut page = pdf.start_page_with(settings);
        let mut surface = page.surface();
        if let (0, Some(image)) = (index, &logo) {
            // Fit in 140 × 60 points at the top right, keeping the proportions.
            let (w, h) = image.size();
            let scale = (140.0 / w.max(1) as f32).min(60.0 / h.max(1) as f32);
            let (w, h) = (w as f32 * scale, h as f32 * scale);
            let size = krilla::geom::Size::from_wh(w, h).ok_or("bad logo size")?;
            surface.push_transform(&krilla::geom::Transform::from_translate(
                WIDTH - MARGIN - w,
                MARGIN,
            ));
            surface.draw_image(image.clone(), size);
            surface.pop();
        }
        for t in texts {
            let font = if t.bold {
                bold.clone()
            } else {
                regular.clone()
            };
            surface.draw_text(
                Point::from_xy(t.x, t.y),
                font,
                t.size,
                &t.text,
                false,
                TextDirection::Auto,
            );
        }
        surface.finish();
        page.finish();
    }
    let bytes = pdf
        .finish()
        .map_err(|e| format!("the PDF is not PDF/A-3b: {e:?}"))?;
    add_facturx_xmp(bytes, doc.kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::facturx::{cii_xml, tests::sample};

    #[test]
    fn the_pdf_carries_the_xml_and_declares_pdf_a_3_and_factur_x() {
        for kind in [InvoiceKind::Invoice, InvoiceKind::CreditNote] {
            let doc = sample(kind);
            let xml = cii_xml(&doc);
            // A 2×1 red PNG as the logo.
            let logo = [
                0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48,
                0x44, 0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00,
                0x00, 0x7B, 0x40, 0xE8, 0xDD, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78,
                0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0x00, 0x44, 0x00, 0x08, 0xFE, 0x01, 0xFF, 0xC6, 0x9E,
                0x79, 0xF7, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
            ];
            assert!(check_logo(&logo).is_ok(), "the test logo is a PNG");
            assert!(
                check_logo(&logo[..40]).is_err(),
                "a truncated PNG is refused"
            );
            let pdf = render(&doc, &xml, Some(&logo)).unwrap_or_else(|e| panic!("{e}"));
            if let Err(report) = crate::domain::facturx::validate_pdf(&pdf, &xml) {
                panic!("{report}");
            }
            if let Ok(dir) = std::env::var("DUMP_PDF") {
                let _ = std::fs::write(format!("{dir}/{kind:?}.pdf"), &pdf);
            }
            // The check can fail: another XML is not the one embedded.
            let other = xml.replace("FAC2026-000001", "FAC2026-000002");
            assert!(crate::domain::facturx::validate_pdf(&pdf, &other).is_err());
        }
    }

    #[test]
    fn amounts_print_the_french_way() {
        assert_eq!(
            money(Decimal::new(123456789, 2)),
            "1\u{202f}234\u{202f}567,89 €"
        );
        assert_eq!(money(Decimal::new(5, 1)), "0,50 €");
    }
}
