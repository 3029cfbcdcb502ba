//! Invoice settings per société: the seller's legal identity and the series prefixes.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SettingsRow {
    pub organisation_id: Uuid,
    pub societe_id: Uuid,
    pub legal_name: String,
    pub legal_form: String,
    pub share_capital: Decimal,
    pub siren: String,
    pub siret: Option<String>,
    pub vat_number: String,
    pub rcs: String,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    pub country: String,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub logo: Option<Vec<u8>>,
    pub logo_mime: Option<String>,
    pub legal_mentions: Option<String>,
    pub invoice_prefix: String,
    pub credit_note_prefix: String,
    pub vat_on_debits: bool,
    pub updated_at: DateTime<Utc>,
}

/// Settings as given, valid.
#[derive(Debug, Clone)]
pub struct SettingsFields {
    pub legal_name: String,
    pub legal_form: String,
    pub share_capital: Decimal,
    pub siren: String,
    pub siret: Option<String>,
    pub vat_number: String,
    pub rcs: String,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    pub country: String,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub legal_mentions: Option<String>,
    pub invoice_prefix: String,
    pub credit_note_prefix: String,
    pub vat_on_debits: bool,
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn upsert_settings(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    societe_id: Uuid,
    f: &SettingsFields,
) -> sqlx::Result<SettingsRow> {
    sqlx::query_as(
        "insert into invoice_settings (organisation_id, societe_id, legal_name, legal_form,
                share_capital, siren, siret, vat_number, rcs, address_line1, address_line2,
                postal_code, city, country, iban, bic, legal_mentions, invoice_prefix,
                credit_note_prefix, vat_on_debits)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
         on conflict (organisation_id, societe_id) do update set legal_name = excluded.legal_name,
             legal_form = excluded.legal_form, share_capital = excluded.share_capital,
             siren = excluded.siren, siret = excluded.siret, vat_number = excluded.vat_number,
             rcs = excluded.rcs, address_line1 = excluded.address_line1,
             address_line2 = excluded.address_line2, postal_code = excluded.postal_code,
             city = excluded.city, country = excluded.country, iban = excluded.iban,
             bic = excluded.bic, legal_mentions = excluded.legal_mentions,
             invoice_prefix = excluded.invoice_prefix,
             credit_note_prefix = excluded.credit_note_prefix,
             vat_on_debits = excluded.vat_on_debits, updated_at = now()
         returning *",
    )
    .bind(organisation_id)
    .bind(societe_id)
    .bind(&f.legal_name)
    .bind(&f.legal_form)
    .bind(f.share_capital)
    .bind(&f.siren)
    .bind(&f.siret)
    .bind(&f.vat_number)
    .bind(&f.rcs)
    .bind(&f.address_line1)
    .bind(&f.address_line2)
    .bind(&f.postal_code)
    .bind(&f.city)
    .bind(&f.country)
    .bind(&f.iban)
    .bind(&f.bic)
    .bind(&f.legal_mentions)
    .bind(&f.invoice_prefix)
    .bind(&f.credit_note_prefix)
    .bind(f.vat_on_debits)
    .fetch_one(db)
    .await
}

/// Sets or clears the logo; `None` when the société has no settings.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn set_logo(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    societe_id: Uuid,
    logo: Option<(Vec<u8>, &str)>,
) -> sqlx::Result<Option<SettingsRow>> {
    let (bytes, mime) = match logo {
        Some((bytes, mime)) => (Some(bytes), Some(mime)),
        None => (None, None),
    };
    sqlx::query_as(
        "update invoice_settings set logo = $3, logo_mime = $4, updated_at = now()
         where organisation_id = $1 and societe_id = $2 returning *",
    )
    .bind(organisation_id)
    .bind(societe_id)
    .bind(bytes)
    .bind(mime)
    .fetch_optional(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn find_settings(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    societe_id: Uuid,
) -> sqlx::Result<Option<SettingsRow>> {
    sqlx::query_as("select * from invoice_settings where organisation_id = $1 and societe_id = $2")
        .bind(organisation_id)
        .bind(societe_id)
        .fetch_optional(db)
        .await
}
