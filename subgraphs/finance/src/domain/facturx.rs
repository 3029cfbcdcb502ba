//! The Factur-X XML: a UN/CEFACT Cross Industry Invoice (D16B, as Factur-X 1.0x uses it) at
//! the EN 16931 profile, with the French mandatory mentions as notes (penalties, the €40
//! indemnity, discount terms, seller legal information). Validated in the tests against the
//! official XSD and the EN 16931 and French (BR-FR) schematrons.

use std::fmt::Write;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::invoice::{InvoiceKind, OperationNature, VatBreakdown, VatCategory};

/// A party as the invoice names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    /// SIREN (scheme 0002).
    pub siren: Option<String>,
    pub vat_number: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: String,
    /// Legal form, share capital, RCS (BT-33), for the seller.
    pub legal_info: Option<String>,
    /// An e-mail address, the electronic address of a party without a SIREN.
    pub email: Option<String>,
}

impl Party {
    /// The electronic address (BT-34 / BT-49): the SIREN in the French directory (scheme
    /// 0225), else the e-mail address (scheme EM).
    pub fn electronic_address(&self) -> Option<(&'static str, &str)> {
        match (&self.siren, &self.email) {
            (Some(siren), _) => Some(("0225", siren.as_str())),
            (None, Some(email)) => Some(("EM", email.as_str())),
            (None, None) => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub position: i32,
    pub product_reference: Option<String>,
    pub description: String,
    pub quantity: Decimal,
    pub unit_code: String,
    pub unit_price: Decimal,
    pub discount: Decimal,
    pub category: VatCategory,
    pub vat_rate: Decimal,
    pub net: Decimal,
}

/// Everything the XML says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub kind: InvoiceKind,
    pub number: String,
    pub issue_date: NaiveDate,
    pub delivery_date: NaiveDate,
    pub due_date: NaiveDate,
    pub currency: String,
    pub seller: Party,
    pub buyer: Party,
    pub contract_reference: Option<String>,
    /// For a credit note: the credited invoice's number and issue date.
    pub original: Option<(String, NaiveDate)>,
    pub lines: Vec<Line>,
    pub breakdown: Vec<VatBreakdown>,
    pub total_excl_vat: Decimal,
    pub total_vat: Decimal,
    pub total_incl_vat: Decimal,
    pub prepaid: Decimal,
    pub payment_terms_days: i32,
    pub late_payment_rate: Decimal,
    pub recovery_indemnity: Decimal,
    pub nature: OperationNature,
    pub vat_on_debits: bool,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub notes: Option<String>,
    /// Where the goods go, when not the buyer's address (a reform mention, printed).
    pub delivery_address: Option<String>,
}

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

fn date(d: NaiveDate) -> String {
    format!(
        "<udt:DateTimeString format=\"102\">{}</udt:DateTimeString>",
        d.format("%Y%m%d")
    )
}

/// Amounts with two decimals, rates and quantities without trailing zeros.
fn amount(a: Decimal) -> String {
    let mut a = a;
    a.rescale(2);
    a.to_string()
}

fn plain(d: Decimal) -> String {
    d.normalize().to_string()
}

fn party(out: &mut String, tag: &str, p: &Party) {
    let _ = write!(out, "<ram:{tag}><ram:Name>{}</ram:Name>", esc(&p.name));
    if let Some(info) = &p.legal_info {
        let _ = write!(out, "<ram:Description>{}</ram:Description>", esc(info));
    }
    if let Some(siren) = &p.siren {
        let _ = write!(
            out,
            "<ram:SpecifiedLegalOrganization><ram:ID schemeID=\"0002\">{}</ram:ID></ram:SpecifiedLegalOrganization>",
            esc(siren)
        );
    }
    out.push_str("<ram:PostalTradeAddress>");
    if let Some(postal_code) = &p.postal_code {
        let _ = write!(
            out,
            "<ram:PostcodeCode>{}</ram:PostcodeCode>",
            esc(postal_code)
        );
    }
    if let Some(line1) = &p.address_line1 {
        let _ = write!(out, "<ram:LineOne>{}</ram:LineOne>", esc(line1));
    }
    if let Some(line2) = &p.address_line2 {
        let _ = write!(out, "<ram:LineTwo>{}</ram:LineTwo>", esc(line2));
    }
    if let Some(city) = &p.city {
        let _ = write!(out, "<ram:CityName>{}</ram:CityName>", esc(city));
    }
    let _ = write!(
        out,
        "<ram:CountryID>{}</ram:CountryID></ram:PostalTradeAddress>",
        esc(&p.country)
    );
    if let Some((scheme, address)) = p.electronic_address() {
        let _ = write!(
            out,
            "<ram:URIUniversalCommunication><ram:URIID schemeID=\"{scheme}\">{}</ram:URIID></ram:URIUniversalCommunication>",
            esc(address)
        );
    }
    if let Some(vat) = &p.vat_number {
        let _ = write!(
            out,
            "<ram:SpecifiedTaxRegistration><ram:ID schemeID=\"VA\">{}</ram:ID></ram:SpecifiedTaxRegistration>",
            esc(vat)
        );
    }
    let _ = write!(out, "</ram:{tag}>");
}

fn note(out: &mut String, content: &str, subject: &str) {
    let _ = write!(
        out,
        "<ram:IncludedNote><ram:Content>{}</ram:Content><ram:SubjectCode>{subject}</ram:SubjectCode></ram:IncludedNote>",
        esc(content)
    );
}

/// The mentions French law requires, as EN 16931 notes with their UNTDID 4451 subjects.
pub fn mentions(doc: &Document) -> Vec<(String, &'static str)> {
    let mut notes = Vec::new();
    if let Some(text) = &doc.notes {
        notes.push((text.clone(), "AAI"));
    }
    notes.push((
        format!(
            "En cas de retard de paiement, pénalités au taux annuel de {} %, exigibles dès le lendemain de l'échéance.",
            plain(doc.late_payment_rate).replace('.', ",")
        ),
        "PMD",
    ));
    notes.push((
        format!(
            "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : {} €.",
            amount(doc.recovery_indemnity).replace('.', ",")
        ),
        "PMT",
    ));
    notes.push(("Pas d'escompte pour paiement anticipé.".to_owned(), "AAB"));
    let nature = match doc.nature {
        OperationNature::Goods => "livraison de biens",
        OperationNature::Services => "prestation de services",
        OperationNature::Mixed => "opération mixte (biens et services)",
    };
    notes.push((format!("Nature de l'opération : {nature}."), "AAI"));
    if doc.vat_on_debits {
        notes.push((
            "Option pour le paiement de la taxe d'après les débits.".to_owned(),
            "AAI",
        ));
    }
    if let Some(info) = &doc.seller.legal_info {
        notes.push((info.clone(), "REG"));
    }
    notes
}

/// The CII XML of `doc`.
pub fn cii_xml(doc: &Document) -> String {
    let mut x = String::with_capacity(8 * 1024);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str("<rsm:CrossIndustryInvoice xmlns:rsm=\"urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100\" xmlns:qdt=\"urn:un:unece:uncefact:data:standard:QualifiedDataType:100\" xmlns:ram=\"urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100\" xmlns:udt=\"urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100\">");
    document_header(&mut x, doc);
    for line in &doc.lines {
        line_item(&mut x, line);
    }
    header_agreement_and_delivery(&mut x, doc);
    payment_means(&mut x, doc);
    settlement(&mut x, doc);
    x.push_str("</ram:ApplicableHeaderTradeSettlement></rsm:SupplyChainTradeTransaction></rsm:CrossIndustryInvoice>\n");
    x
}

/// The document context (framework, guideline) and the document (number, type, date, notes).
fn document_header(x: &mut String, doc: &Document) {
    // BT-23, the French invoicing framework: B1 goods, S1 services, M1 mixed (an invoice
    // submitted for payment).
    let framework = match doc.nature {
        OperationNature::Goods => "B1",
        OperationNature::Services => "S1",
        OperationNature::Mixed => "M1",
    };
    let _ = write!(
        x,
        "<rsm:ExchangedDocumentContext><ram:BusinessProcessSpecifiedDocumentContextParameter><ram:ID>{framework}</ram:ID></ram:BusinessProcessSpecifiedDocumentContextParameter>"
    );
    x.push_str("<ram:GuidelineSpecifiedDocumentContextParameter><ram:ID>urn:cen.eu:en16931:2017</ram:ID></ram:GuidelineSpecifiedDocumentContextParameter></rsm:ExchangedDocumentContext>");
    let _ = write!(
        x,
        "<rsm:ExchangedDocument><ram:ID>{}</ram:ID><ram:TypeCode>{}</ram:TypeCode><ram:IssueDateTime>{}</ram:IssueDateTime>",
        esc(&doc.number),
        doc.kind.type_code(),
        date(doc.issue_date)
    );
    for (content, subject) in mentions(doc) {
        note(x, &content, subject);
    }
    x.push_str("</rsm:ExchangedDocument><rsm:SupplyChainTradeTransaction>");
}

/// One invoice line (BG-25).
fn line_item(x: &mut String, line: &Line) {
    let _ = write!(
        x,
        "<ram:IncludedSupplyChainTradeLineItem><ram:AssociatedDocumentLineDocument><ram:LineID>{}</ram:LineID></ram:AssociatedDocumentLineDocument><ram:SpecifiedTradeProduct>",
        line.position
    );
    if let Some(reference) = &line.product_reference {
        let _ = write!(
            x,
            "<ram:SellerAssignedID>{}</ram:SellerAssignedID>",
            esc(reference)
        );
    }
    let _ = write!(
        x,
        "<ram:Name>{}</ram:Name></ram:SpecifiedTradeProduct><ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>{}</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement><ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode=\"{}\">{}</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery><ram:SpecifiedLineTradeSettlement><ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode><ram:CategoryCode>{}</ram:CategoryCode><ram:RateApplicablePercent>{}</ram:RateApplicablePercent></ram:ApplicableTradeTax>",
        esc(&line.description),
        amount(line.unit_price),
        esc(&line.unit_code),
        plain(line.quantity),
        line.category.code(),
        plain(line.vat_rate)
    );
    if !line.discount.is_zero() {
        let _ = write!(
            x,
            "<ram:SpecifiedTradeAllowanceCharge><ram:ChargeIndicator><udt:Indicator>false</udt:Indicator></ram:ChargeIndicator><ram:ActualAmount>{}</ram:ActualAmount><ram:Reason>Remise</ram:Reason></ram:SpecifiedTradeAllowanceCharge>",
            amount(line.discount)
        );
    }
    let _ = write!(
        x,
        "<ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>{}</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement></ram:IncludedSupplyChainTradeLineItem>",
        amount(line.net)
    );
}

/// The parties, the contract reference and the delivery date.
fn header_agreement_and_delivery(x: &mut String, doc: &Document) {
    x.push_str("<ram:ApplicableHeaderTradeAgreement>");
    party(x, "SellerTradeParty", &doc.seller);
    party(x, "BuyerTradeParty", &doc.buyer);
    if let Some(contract) = &doc.contract_reference {
        let _ = write!(
            x,
            "<ram:ContractReferencedDocument><ram:IssuerAssignedID>{}</ram:IssuerAssignedID></ram:ContractReferencedDocument>",
            esc(contract)
        );
    }
    let _ = write!(
        x,
        "</ram:ApplicableHeaderTradeAgreement><ram:ApplicableHeaderTradeDelivery><ram:ActualDeliverySupplyChainEvent><ram:OccurrenceDateTime>{}</ram:OccurrenceDateTime></ram:ActualDeliverySupplyChainEvent></ram:ApplicableHeaderTradeDelivery><ram:ApplicableHeaderTradeSettlement><ram:InvoiceCurrencyCode>{}</ram:InvoiceCurrencyCode>",
        date(doc.delivery_date),
        esc(&doc.currency)
    );
}

/// The credit transfer means (BG-16), when the seller has an IBAN.
fn payment_means(x: &mut String, doc: &Document) {
    if let Some(iban) = &doc.iban {
        let _ = write!(
            x,
            "<ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode><ram:PayeePartyCreditorFinancialAccount><ram:IBANID>{}</ram:IBANID></ram:PayeePartyCreditorFinancialAccount>",
            esc(&iban.replace(' ', ""))
        );
        if let Some(bic) = &doc.bic {
            let _ = write!(
                x,
                "<ram:PayeeSpecifiedCreditorFinancialInstitution><ram:BICID>{}</ram:BICID></ram:PayeeSpecifiedCreditorFinancialInstitution>",
                esc(bic)
            );
        }
        x.push_str("</ram:SpecifiedTradeSettlementPaymentMeans>");
    }
}

/// The VAT breakdown, the terms, the totals and the corrected invoice.
fn settlement(x: &mut String, doc: &Document) {
    for group in &doc.breakdown {
        let _ = write!(
            x,
            "<ram:ApplicableTradeTax><ram:CalculatedAmount>{}</ram:CalculatedAmount><ram:TypeCode>VAT</ram:TypeCode>",
            amount(group.tax)
        );
        if let Some(reason) = group.category.exemption_reason() {
            let _ = write!(
                x,
                "<ram:ExemptionReason>{}</ram:ExemptionReason>",
                esc(reason)
            );
        }
        let _ = write!(
            x,
            "<ram:BasisAmount>{}</ram:BasisAmount><ram:CategoryCode>{}</ram:CategoryCode>",
            amount(group.base),
            group.category.code()
        );
        if doc.vat_on_debits && group.category == VatCategory::Standard {
            x.push_str("<ram:DueDateTypeCode>5</ram:DueDateTypeCode>"); // on invoice issue
        }
        let _ = write!(
            x,
            "<ram:RateApplicablePercent>{}</ram:RateApplicablePercent></ram:ApplicableTradeTax>",
            plain(group.rate)
        );
    }
    let _ = write!(
        x,
        "<ram:SpecifiedTradePaymentTerms><ram:Description>Paiement à {} jours</ram:Description><ram:DueDateDateTime>{}</ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>",
        doc.payment_terms_days,
        date(doc.due_date)
    );
    let _ = write!(
        x,
        "<ram:SpecifiedTradeSettlementHeaderMonetarySummation><ram:LineTotalAmount>{}</ram:LineTotalAmount><ram:TaxBasisTotalAmount>{}</ram:TaxBasisTotalAmount><ram:TaxTotalAmount currencyID=\"{}\">{}</ram:TaxTotalAmount><ram:GrandTotalAmount>{}</ram:GrandTotalAmount><ram:TotalPrepaidAmount>{}</ram:TotalPrepaidAmount><ram:DuePayableAmount>{}</ram:DuePayableAmount></ram:SpecifiedTradeSettlementHeaderMonetarySummation>",
        amount(doc.total_excl_vat),
        amount(doc.total_excl_vat),
        esc(&doc.currency),
        amount(doc.total_vat),
        amount(doc.total_incl_vat),
        amount(doc.prepaid),
        amount(doc.total_incl_vat - doc.prepaid)
    );
    if let Some((number, issued)) = &doc.original {
        let _ = write!(
            x,
            "<ram:InvoiceReferencedDocument><ram:IssuerAssignedID>{}</ram:IssuerAssignedID><ram:FormattedIssueDateTime><qdt:DateTimeString format=\"102\">{}</qdt:DateTimeString></ram:FormattedIssueDateTime></ram:InvoiceReferencedDocument>",
            esc(number),
            issued.format("%Y%m%d")
        );
    }
}

/// Runs the repository's Factur-X validator on `xml` (fails closed: a validator that cannot
/// run is an error). For tests.
pub fn validate(xml: &str) -> Result<(), String> {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/facturx/validate.py");
    let file = std::env::temp_dir().join(format!("facturx-{}.xml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, xml).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    let run = std::process::Command::new("python3")
        .arg(&script)
        .arg(&file)
        .output()
        .map_err(|e| format!("cannot run the validator {}: {e}", script.display()));
    let _ = std::fs::remove_file(&file);
    let run = run?;
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    match run.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(format!("invalid Factur-X:\n{report}")),
        _ => Err(format!("the validator could not run:\n{report}")),
    }
}

/// Runs the validator on a Factur-X PDF: the embedded XML equals `xml` and is valid, the
/// PDF declares PDF/A-3B and Factur-X. For tests; fails closed like `validate`.
pub fn validate_pdf(pdf: &[u8], xml: &str) -> Result<(), String> {
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/facturx/validate.py");
    let stem = std::env::temp_dir().join(format!("facturx-{}", uuid::Uuid::new_v4().simple()));
    let (pdf_file, xml_file) = (stem.with_extension("pdf"), stem.with_extension("xml"));
    std::fs::write(&pdf_file, pdf)
        .map_err(|e| format!("cannot write {}: {e}", pdf_file.display()))?;
    std::fs::write(&xml_file, xml)
        .map_err(|e| format!("cannot write {}: {e}", xml_file.display()))?;
    let run = std::process::Command::new("python3")
        .arg(&script)
        .arg("--pdf")
        .arg(&pdf_file)
        .arg(&xml_file)
        .output()
        .map_err(|e| format!("cannot run the validator {}: {e}", script.display()));
    let _ = std::fs::remove_file(&pdf_file);
    let _ = std::fs::remove_file(&xml_file);
    let run = run?;
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    match run.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(format!("invalid Factur-X PDF:\n{report}")),
        _ => Err(format!("the validator could not run:\n{report}")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::invoice::{invoice_totals, vat_breakdown};
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::from_str(s).unwrap_or_default()
    }

    pub(crate) fn sample(kind: InvoiceKind) -> Document {
        let lines = vec![
            Line {
                position: 1,
                product_reference: Some("ASS-1".into()),
                description: "Assurance habitation <premium> & co".into(),
                quantity: d("3"),
                unit_price: d("19.99"),
                discount: d("5.00"),
                unit_code: "C62".into(),
                category: VatCategory::Standard,
                vat_rate: d("20"),
                net: d("54.97"),
            },
            Line {
                position: 2,
                product_reference: None,
                description: "Livre".into(),
                quantity: d("1.5"),
                unit_price: d("10.00"),
                discount: Decimal::ZERO,
                unit_code: "C62".into(),
                category: VatCategory::Standard,
                vat_rate: d("5.5"),
                net: d("15.00"),
            },
        ];
        let breakdown = vat_breakdown(
            &lines
                .iter()
                .map(|l| (l.category, l.vat_rate, l.net))
                .collect::<Vec<_>>(),
        );
        let totals = invoice_totals(&breakdown);
        Document {
            kind,
            number: "FAC2026-000001".into(),
            issue_date: day("2026-01-15"),
            delivery_date: day("2026-01-15"),
            due_date: day("2026-02-14"),
            currency: "EUR".into(),
            seller: Party {
                name: "Acme Assurances".into(),
                siren: Some("732829320".into()),
                vat_number: Some("FR44732829320".into()),
                address_line1: Some("1 rue de la Paix".into()),
                address_line2: None,
                postal_code: Some("75002".into()),
                city: Some("Paris".into()),
                country: "FR".into(),
                legal_info: Some("SAS au capital de 10 000,00 € - RCS Paris 732 829 320".into()),
                email: None,
            },
            buyer: Party {
                name: "Dupont SA".into(),
                siren: Some("552100554".into()),
                vat_number: Some("FR96552100554".into()),
                address_line1: Some("2 avenue Foch".into()),
                address_line2: Some("Bâtiment B".into()),
                postal_code: Some("69006".into()),
                city: Some("Lyon".into()),
                country: "FR".into(),
                legal_info: None,
                email: Some("compta@dupont.example".into()),
            },
            contract_reference: Some("CTR-2026-001".into()),
            original: (kind == InvoiceKind::CreditNote)
                .then(|| ("FAC2025-000009".to_owned(), day("2025-12-01"))),
            lines,
            breakdown,
            total_excl_vat: totals.excl_vat,
            total_vat: totals.vat,
            total_incl_vat: totals.incl_vat,
            prepaid: Decimal::ZERO,
            payment_terms_days: 30,
            late_payment_rate: d("13.5"),
            recovery_indemnity: d("40"),
            nature: OperationNature::Mixed,
            vat_on_debits: true,
            iban: Some("FR76 3000 6000 0112 3456 7890 189".into()),
            bic: Some("AGRIFRPP".into()),
            notes: None,
            delivery_address: Some("Entrepôt, 3 rue du Port, 13002 Marseille".into()),
        }
    }

    #[test]
    fn an_invoice_and_a_credit_note_are_valid_en16931_and_br_fr() {
        for kind in [InvoiceKind::Invoice, InvoiceKind::CreditNote] {
            let xml = cii_xml(&sample(kind));
            if let Err(report) = validate(&xml) {
                panic!("{report}\n{xml}");
            }
        }
    }

    fn private_person(email: Option<&str>) -> Document {
        let mut doc = sample(InvoiceKind::Invoice);
        doc.buyer = Party {
            name: "Marie Durand".into(),
            siren: None,
            vat_number: None,
            address_line1: Some("12 rue des Lilas".into()),
            address_line2: None,
            postal_code: Some("33000".into()),
            city: Some("Bordeaux".into()),
            country: "FR".into(),
            legal_info: None,
            email: email.map(str::to_owned),
        };
        doc
    }

    #[test]
    fn an_invoice_to_a_private_person_without_siren_or_vat_number_is_valid() {
        let xml = cii_xml(&private_person(Some("marie.durand@example.fr")));
        assert!(!xml.contains("552100554"));
        assert!(xml.contains("<ram:URIID schemeID=\"EM\">marie.durand@example.fr</ram:URIID>"));
        if let Err(report) = validate(&xml) {
            panic!("{report}\n{xml}");
        }
    }

    #[test]
    fn a_buyer_without_any_electronic_address_breaks_br_fr_12() {
        let report = validate(&cii_xml(&private_person(None))).unwrap_err();
        assert!(report.contains("BR-FR-12"), "{report}");
    }

    #[test]
    fn the_validator_refuses_a_broken_invoice() {
        let mut doc = sample(InvoiceKind::Invoice);
        doc.total_vat += Decimal::ONE; // totals no longer add up (BR-CO-15)
        assert!(validate(&cii_xml(&doc)).is_err());
    }
}
