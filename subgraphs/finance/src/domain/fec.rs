//! The FEC (fichier des écritures comptables, art. A.47 A-1 LPF): the sales journal of a
//! société for a period. Each issued invoice is one balanced entry (client 411 debited incl.
//! VAT, revenue credited per VAT rate, VAT collected 44571 credited per rate); a credit note is
//! the mirror entry. 18 tab-separated columns in the legal order, dates `YYYYMMDD`, decimal
//! comma, entries in issue order.

use std::fmt::Write;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::invoice::{InvoiceKind, OperationNature};

pub const COLUMNS: [&str; 18] = [
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
];

const JOURNAL: (&str, &str) = ("VT", "Ventes");
const CLIENTS: (&str, &str) = ("411000", "Clients");
const VAT: (&str, &str) = ("445710", "TVA collectée");

/// An issued invoice or credit note, as the journal needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: InvoiceKind,
    pub number: String,
    pub issue_date: NaiveDate,
    /// The client's auxiliary account and name.
    pub client_account: String,
    pub client_name: String,
    pub nature: OperationNature,
    /// Per VAT rate: (rate, base excl. VAT, VAT).
    pub by_rate: Vec<(Decimal, Decimal, Decimal)>,
    pub total_incl_vat: Decimal,
}

/// `{SIREN}FEC{YYYYMMDD}.txt`, the date being the end of the fiscal period.
pub fn file_name(siren: &str, period_end: NaiveDate) -> String {
    format!("{siren}FEC{}.txt", period_end.format("%Y%m%d"))
}

fn money(amount: Decimal) -> String {
    let mut amount = amount;
    amount.rescale(2);
    amount.to_string().replace('.', ",")
}

fn clean(text: &str) -> String {
    text.replace(['\t', '\r', '\n'], " ")
}

/// The FEC file of `entries` (already in issue order).
pub fn export(entries: &[Entry]) -> String {
    let mut out = COLUMNS.join("\t");
    out.push_str("\r\n");
    for (index, entry) in entries.iter().enumerate() {
        let number = index + 1;
        let date = entry.issue_date.format("%Y%m%d").to_string();
        let (label, credit_note) = match entry.kind {
            InvoiceKind::Invoice => ("Facture", false),
            InvoiceKind::CreditNote => ("Avoir", true),
        };
        let description = clean(&format!("{label} {} {}", entry.number, entry.client_name));
        let revenue = match entry.nature {
            OperationNature::Goods => ("707000", "Ventes de marchandises"),
            OperationNature::Services | OperationNature::Mixed => {
                ("706000", "Prestations de services")
            }
        };
        let mut line = |account: (&str, &str), aux: Option<(&str, &str)>, debit: Decimal| {
            // An invoice debits the client and credits the rest; a credit note the reverse.
            let (d, c) = if (debit > Decimal::ZERO) != credit_note {
                (debit.abs(), Decimal::ZERO)
            } else {
                (Decimal::ZERO, debit.abs())
            };
            let (aux_num, aux_lib) = aux.unwrap_or(("", ""));
            let _ = write!(
                out,
                "{}\t{}\t{number}\t{date}\t{}\t{}\t{}\t{}\t{}\t{date}\t{description}\t{}\t{}\t\t\t{date}\t\t\r\n",
                JOURNAL.0,
                JOURNAL.1,
                account.0,
                account.1,
                clean(aux_num),
                clean(aux_lib),
                clean(&entry.number),
                money(d),
                money(c),
            );
        };
        line(
            CLIENTS,
            Some((&entry.client_account, &entry.client_name)),
            entry.total_incl_vat,
        );
        for &(_, base, _) in &entry.by_rate {
            line(revenue, None, -base);
        }
        for &(rate, _, tax) in &entry.by_rate {
            if !tax.is_zero() || !rate.is_zero() {
                line(VAT, None, -tax);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    #[test]
    fn every_entry_balances_and_has_eighteen_columns() {
        let entry = Entry {
            kind: InvoiceKind::Invoice,
            number: "FAC2026-000001".into(),
            issue_date: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap_or_default(),
            client_account: "C1".into(),
            client_name: "Dupont\tSA".into(),
            nature: OperationNature::Services,
            by_rate: vec![(d("20"), d("100"), d("20")), (d("5.5"), d("10"), d("0.55"))],
            total_incl_vat: d("130.55"),
        };
        let mut credit = entry.clone();
        credit.kind = InvoiceKind::CreditNote;
        let file = export(&[entry, credit]);
        let rows: Vec<Vec<&str>> = file.lines().map(|l| l.split('\t').collect()).collect();
        assert!(rows.iter().all(|r| r.len() == 18), "{file}");
        for number in ["1", "2"] {
            let (debit, credit) = rows.iter().filter(|r| r[2] == number).fold(
                (Decimal::ZERO, Decimal::ZERO),
                |(dr, cr), r| {
                    (
                        dr + d(&r[11].replace(',', ".")),
                        cr + d(&r[12].replace(',', ".")),
                    )
                },
            );
            assert_eq!(debit, credit);
            assert_eq!(debit, d("130.55"));
        }
        assert_eq!(rows[1][11], "130,55"); // the invoice debits the client
        assert_eq!(rows[6][12], "130,55"); // the credit note credits it
        assert_eq!(
            file_name(
                "123456789",
                NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default()
            ),
            "123456789FEC20261231.txt"
        );
    }
}
