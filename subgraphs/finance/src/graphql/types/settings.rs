//! Invoice settings per société: the seller's legal identity, bank details, mentions and the
//! prefixes of its series. Reading needs membership; changing needs the ADMIN role.

use async_graphql::{Context, InputObject, Object, ID};
use rust_decimal::Decimal;
use subgraph_kit::{
    error::Invalid,
    identifiers::{Siren, Siret, VatNumber},
    money::parse_amount,
    text::{clean_text, country_code, optional_text},
    Role,
};

use crate::{
    db::{
        self,
        settings::{SettingsFields, SettingsRow},
    },
    error::{Error, Result},
    graphql::{parse_id, parts},
};

/// What a société prints on its invoices.
pub struct InvoiceSettings(pub SettingsRow);

#[Object]
impl InvoiceSettings {
    async fn societe_id(&self) -> ID {
        ID(self.0.societe_id.to_string())
    }
    async fn legal_name(&self) -> &str {
        &self.0.legal_name
    }
    async fn legal_form(&self) -> &str {
        &self.0.legal_form
    }
    async fn share_capital(&self) -> Decimal {
        self.0.share_capital
    }
    async fn siren(&self) -> &str {
        &self.0.siren
    }
    async fn siret(&self) -> Option<&str> {
        self.0.siret.as_deref()
    }
    async fn vat_number(&self) -> &str {
        &self.0.vat_number
    }
    async fn rcs(&self) -> &str {
        &self.0.rcs
    }
    async fn address_line1(&self) -> &str {
        &self.0.address_line1
    }
    async fn address_line2(&self) -> Option<&str> {
        self.0.address_line2.as_deref()
    }
    async fn postal_code(&self) -> &str {
        &self.0.postal_code
    }
    async fn city(&self) -> &str {
        &self.0.city
    }
    async fn country(&self) -> &str {
        &self.0.country
    }
    async fn iban(&self) -> Option<&str> {
        self.0.iban.as_deref()
    }
    async fn bic(&self) -> Option<&str> {
        self.0.bic.as_deref()
    }
    async fn legal_mentions(&self) -> Option<&str> {
        self.0.legal_mentions.as_deref()
    }
    async fn invoice_prefix(&self) -> &str {
        &self.0.invoice_prefix
    }
    async fn credit_note_prefix(&self) -> &str {
        &self.0.credit_note_prefix
    }
    /// The MIME type of the logo printed on invoices, if there is one.
    async fn logo_mime(&self) -> Option<&str> {
        self.0.logo.as_ref().and(self.0.logo_mime.as_deref())
    }
    /// Option pour le paiement de la taxe d'après les débits.
    async fn vat_on_debits(&self) -> bool {
        self.0.vat_on_debits
    }
}

#[derive(InputObject)]
pub struct InvoiceSettingsInput {
    pub legal_name: String,
    /// SAS, SARL, SA…
    pub legal_form: String,
    pub share_capital: Decimal,
    pub siren: String,
    pub siret: Option<String>,
    pub vat_number: String,
    /// e.g. "RCS Paris 732 829 320".
    pub rcs: String,
    pub address_line1: String,
    pub address_line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    #[graphql(default = "FR")]
    pub country: String,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub legal_mentions: Option<String>,
    #[graphql(default = "FAC")]
    pub invoice_prefix: String,
    #[graphql(default = "AV")]
    pub credit_note_prefix: String,
    #[graphql(default)]
    pub vat_on_debits: bool,
}

impl InvoiceSettingsInput {
    fn parse(self) -> Result<SettingsFields, Invalid> {
        let siren = Siren::parse("siren", &self.siren)?;
        let siret = self
            .siret
            .as_deref()
            .map(|s| Siret::parse("siret", s, &siren).map(Siret::into_inner))
            .transpose()?;
        // The seller is a French société: its number is the French one of its SIREN.
        let vat_number =
            VatNumber::parse("vatNumber", &self.vat_number, Some(&siren))?.into_inner();
        if vat_number != VatNumber::french(&siren).into_inner() {
            return Err(Invalid::new(
                "vatNumber",
                "is not the French VAT number of this SIREN",
            ));
        }
        let siren = siren.into_inner();
        let prefix = |field: &str, value: &str| {
            let value = value.trim().to_uppercase();
            if value.is_empty()
                || value.len() > 10
                || !value.chars().all(|c| c.is_ascii_alphanumeric())
            {
                Err(Invalid::new(field, "must be 1 to 10 letters or digits"))
            } else {
                Ok(value)
            }
        };
        let invoice_prefix = prefix("invoicePrefix", &self.invoice_prefix)?;
        let credit_note_prefix = prefix("creditNotePrefix", &self.credit_note_prefix)?;
        if invoice_prefix == credit_note_prefix {
            return Err(Invalid::new(
                "creditNotePrefix",
                "must differ from the invoice prefix",
            ));
        }
        let country = country_code("country", &self.country)?;
        Ok(SettingsFields {
            legal_name: clean_text("legalName", &self.legal_name, 200)?,
            legal_form: clean_text("legalForm", &self.legal_form, 50)?,
            share_capital: parse_amount("shareCapital", self.share_capital)?,
            siren,
            siret,
            vat_number,
            rcs: clean_text("rcs", &self.rcs, 100)?,
            address_line1: clean_text("addressLine1", &self.address_line1, 200)?,
            address_line2: optional_text("addressLine2", self.address_line2.as_deref(), 200)?,
            postal_code: clean_text("postalCode", &self.postal_code, 20)?,
            city: clean_text("city", &self.city, 100)?,
            country,
            iban: optional_text("iban", self.iban.as_deref(), 40)?
                .map(|i| i.replace(' ', "").to_uppercase()),
            bic: optional_text("bic", self.bic.as_deref(), 11)?.map(|b| b.to_uppercase()),
            legal_mentions: optional_text("legalMentions", self.legal_mentions.as_deref(), 2000)?,
            invoice_prefix,
            credit_note_prefix,
            vat_on_debits: self.vat_on_debits,
        })
    }
}

#[derive(Default)]
pub struct SettingsQuery;

#[Object]
impl SettingsQuery {
    /// A société's invoice settings, if set.
    async fn invoice_settings(
        &self,
        ctx: &Context<'_>,
        societe_id: ID,
    ) -> Result<Option<InvoiceSettings>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let societe = parse_id("societeId", &societe_id)?;
        Ok(
            db::settings::find_settings(&state.pool, tenant.organisation_id, societe)
                .await?
                .map(InvoiceSettings),
        )
    }
}

#[derive(Default)]
pub struct SettingsMutation;

/// Largest logo accepted, in bytes.
const MAX_LOGO: usize = 256 * 1024;

#[Object]
impl SettingsMutation {
    /// Sets (a base64 PNG or JPEG of at most 256 KiB) or clears (null) the logo printed on a
    /// société's invoices (admins).
    async fn set_invoice_logo(
        &self,
        ctx: &Context<'_>,
        societe_id: ID,
        logo_base64: Option<String>,
    ) -> Result<InvoiceSettings> {
        use base64::Engine;
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let societe = parse_id("societeId", &societe_id)?;
        let logo = match logo_base64 {
            None => None,
            Some(encoded) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .map_err(|_| Invalid::new("logoBase64", "is not base64"))?;
                if bytes.len() > MAX_LOGO {
                    return Err(Invalid::new("logoBase64", "is larger than 256 KiB").into());
                }
                crate::domain::pdf::check_logo(&bytes)
                    .map_err(|e| Invalid::new("logoBase64", e))?;
                let mime = if bytes.starts_with(b"\x89PNG") {
                    "image/png"
                } else {
                    "image/jpeg"
                };
                Some((bytes, mime))
            }
        };
        db::settings::set_logo(&state.pool, tenant.organisation_id, societe, logo)
            .await?
            .map(InvoiceSettings)
            .ok_or(Error::not_found("invoice settings"))
    }

    /// Sets a société's invoice settings (admins). Issued invoices keep what they printed.
    async fn set_invoice_settings(
        &self,
        ctx: &Context<'_>,
        societe_id: ID,
        input: InvoiceSettingsInput,
    ) -> Result<InvoiceSettings> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let societe = parse_id("societeId", &societe_id)?;
        let mut conn = state.pool.acquire().await?;
        let known = state
            .directory
            .has_societe(&mut conn, request, tenant.organisation_id, societe)
            .await?;
        if !known {
            return Err(Error::Invalid(Invalid::new(
                "societeId",
                "is not a société of the organisation",
            )));
        }
        let fields = input.parse()?;
        let row =
            db::settings::upsert_settings(&state.pool, tenant.organisation_id, societe, &fields)
                .await?;
        Ok(InvoiceSettings(row))
    }
}
