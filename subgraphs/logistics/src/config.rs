//! Settings of the logistics subgraph: the kit's common block (`http`, `database`, `auth`,
//! `events`), where core's directory and finance answer, Maileva's addresses, the key that
//! encrypts carrier credentials, where documents are kept, how shipments are submitted and
//! tracked, and the price estimate's tariff. Layered (see `subgraph_kit::settings`): defaults,
//! then `LOGISTICS_CONFIG_FILE`, then `LOGISTICS__SECTION__KEY` (`LOGISTICS__VAULT__KEY_FILE`…).

use std::{path::PathBuf, time::Duration};

use rust_decimal::Decimal;
use secrecy::SecretString;
use serde::Deserialize;
use subgraph_kit::{
    directory::DirectorySettings,
    internal::InternalToken,
    settings::{lenient, read_secret, ConfigError, Defaults, ServiceSettings, SubgraphSettings},
    vault::VaultKey,
};

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    #[serde(flatten)]
    pub service: ServiceSettings,
    #[serde(default)]
    pub directory: DirectorySettings,
    pub maileva: MailevaSettings,
    #[serde(default)]
    pub vault: VaultSettings,
    pub documents: DocumentSettings,
    pub finance: FinanceSettings,
    pub shipping: ShippingSettings,
    pub pricing: Pricing,
}

/// Where Maileva answers: production and sandbox (a carrier account says which it uses).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailevaSettings {
    /// The OAuth2 token endpoint.
    pub auth_url: String,
    /// The APIs' base (`…/mail/v2`, `…/registered_mail/v2`, `…/notification_center/v2`).
    pub api_url: String,
    pub sandbox_auth_url: String,
    pub sandbox_api_url: String,
    /// Longest a call to Maileva may take, in seconds.
    #[serde(deserialize_with = "lenient")]
    pub timeout_seconds: u64,
}

/// The key carrier credentials are encrypted with (`openssl rand -base64 32`), inline or in a
/// file (a Docker secret).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultSettings {
    #[serde(default)]
    pub key: Option<SecretString>,
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

impl VaultSettings {
    /// # Errors
    /// When no key is configured, its file is unreadable, or it is not 32 bytes of base64.
    pub fn key(&self) -> anyhow::Result<VaultKey> {
        let key = read_secret(
            self.key.as_ref(),
            self.key_file.as_deref(),
            "logistics needs the key carrier credentials are encrypted with: set \
             LOGISTICS__VAULT__KEY_FILE (or LOGISTICS__VAULT__KEY) to 32 random bytes in base64 \
             (`openssl rand -base64 32`)",
        )?;
        Ok(VaultKey::from_base64(&key)?)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSettings {
    /// Directory of the local document store.
    pub dir: PathBuf,
}

/// Where finance serves issued invoices' PDFs to our services.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinanceSettings {
    /// Finance's base URL (`http://finance:4003`).
    pub url: String,
    /// The deployment's internal token (the same finance is configured with), inline or in a
    /// file.
    #[serde(default)]
    pub internal_token: Option<SecretString>,
    #[serde(default)]
    pub internal_token_file: Option<PathBuf>,
}

impl FinanceSettings {
    /// The internal token, when one is configured (without it, invoices cannot be posted).
    ///
    /// # Errors
    /// When its file cannot be read or it is too short.
    pub fn internal_token(&self) -> anyhow::Result<Option<InternalToken>> {
        if self.internal_token.is_none() && self.internal_token_file.is_none() {
            return Ok(None);
        }
        let token = read_secret(
            self.internal_token.as_ref(),
            self.internal_token_file.as_deref(),
            "",
        )?;
        InternalToken::new(token).map(Some)
    }
}

/// How shipments are submitted and tracked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippingSettings {
    /// This subgraph's public base URL, which Maileva's notifications are sent to
    /// (`<public_url>/webhooks/maileva/<account>`).
    pub public_url: String,
    /// How often the queue is looked at besides the wake-ups of new shipments, in ms.
    #[serde(deserialize_with = "lenient")]
    pub submit_interval_ms: u64,
    /// Attempts before a shipment is given up as `FAILED` (then `retryShipment`).
    #[serde(deserialize_with = "lenient")]
    pub max_attempts: i32,
    /// The first retry's delay, doubled at each attempt (at most an hour), in seconds.
    #[serde(deserialize_with = "lenient")]
    pub retry_base_seconds: u64,
    /// How often submitted shipments are polled for their tracking, in seconds (0: never;
    /// notifications only).
    #[serde(deserialize_with = "lenient")]
    pub poll_interval_seconds: u64,
}

impl ShippingSettings {
    pub fn submit_interval(&self) -> Duration {
        Duration::from_millis(self.submit_interval_ms)
    }
}

/// The price estimate's tariff, in euros excl. VAT (the carrier's own postage price replaces
/// the estimate once it is known).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    pub simple_letter: Decimal,
    pub registered_letter: Decimal,
    pub acknowledgement_of_receipt: Decimal,
    /// Printing and enveloping, per sheet.
    pub per_sheet: Decimal,
    /// Extra per sheet printed in colour.
    pub colour_per_sheet: Decimal,
}

impl SubgraphSettings for Settings {
    const NAME: &'static str = "logistics";
    const PORT: u16 = 4005;
    const SECTIONS: &'static [&'static str] = &[
        "directory",
        "maileva",
        "vault",
        "documents",
        "finance",
        "shipping",
        "pricing",
    ];

    fn database(&self) -> &subgraph_kit::db::DatabaseSettings {
        &self.service.database
    }

    fn defaults(builder: Defaults) -> Result<Defaults, ConfigError> {
        builder
            // A letter's document is uploaded to `POST /documents`: up to 20 MB.
            .set_default("http.max_body_bytes", 21 * 1024 * 1024)?
            .set_default(
                "maileva.auth_url",
                "https://connexion.maileva.com/auth/realms/services/protocol/openid-connect/token",
            )?
            .set_default("maileva.api_url", "https://api.maileva.com")?
            .set_default(
                "maileva.sandbox_auth_url",
                "https://connexion.sandbox.maileva.net/auth/realms/services/protocol/openid-connect/token",
            )?
            .set_default("maileva.sandbox_api_url", "https://api.sandbox.maileva.net")?
            .set_default("maileva.timeout_seconds", 30)?
            .set_default("documents.dir", ".data/logistics-documents")?
            .set_default("finance.url", "http://127.0.0.1:4003")?
            .set_default("shipping.public_url", "http://127.0.0.1:4005")?
            .set_default("shipping.submit_interval_ms", 5_000)?
            .set_default("shipping.max_attempts", 8)?
            .set_default("shipping.retry_base_seconds", 60)?
            .set_default("shipping.poll_interval_seconds", 3_600)?
            .set_default("pricing.simple_letter", "1.39")?
            .set_default("pricing.registered_letter", "5.36")?
            .set_default("pricing.acknowledgement_of_receipt", "1.25")?
            .set_default("pricing.per_sheet", "0.30")?
            .set_default("pricing.colour_per_sheet", "0.15")
    }
}

impl Settings {
    /// Logistics over `service` (port 0: a free one, picked now), reading through to core at
    /// `core_url` and fetching invoices from finance at `finance_url` (without an internal
    /// token: set `finance.internal_token`), Maileva (both environments) at `maileva_url` (a
    /// fake's), its documents in `documents_dir`, a fresh vault key, submissions looked at
    /// often, no polling.
    pub fn for_tests(
        mut service: ServiceSettings,
        core_url: &str,
        finance_url: &str,
        maileva_url: &str,
        documents_dir: PathBuf,
    ) -> Self {
        // A port of its own, so that Maileva's callbacks and document links can name it.
        if service.http.port == 0 {
            service.http.port = std::net::TcpListener::bind((service.http.host.as_str(), 0))
                .and_then(|l| l.local_addr())
                .map_or(0, |a| a.port());
        }
        let public_url = format!("http://{}:{}", service.http.host, service.http.port);
        let token = format!("{maileva_url}/auth/realms/services/protocol/openid-connect/token");
        Self {
            service,
            directory: DirectorySettings {
                core_url: core_url.to_owned(),
            },
            maileva: MailevaSettings {
                auth_url: token.clone(),
                api_url: maileva_url.to_owned(),
                sandbox_auth_url: token,
                sandbox_api_url: maileva_url.to_owned(),
                timeout_seconds: 5,
            },
            vault: VaultSettings {
                key: Some(VaultKey::generate()),
                key_file: None,
            },
            documents: DocumentSettings { dir: documents_dir },
            finance: FinanceSettings {
                url: finance_url.to_owned(),
                internal_token: None,
                internal_token_file: None,
            },
            shipping: ShippingSettings {
                public_url,
                submit_interval_ms: 200,
                max_attempts: 3,
                retry_base_seconds: 0,
                poll_interval_seconds: 0,
            },
            pricing: Pricing {
                simple_letter: Decimal::new(139, 2),
                registered_letter: Decimal::new(536, 2),
                acknowledgement_of_receipt: Decimal::new(125, 2),
                per_sheet: Decimal::new(30, 2),
                colour_per_sheet: Decimal::new(15, 2),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Settings;
    use subgraph_kit::settings::SubgraphSettings;

    #[test]
    fn the_defaults_load_without_a_file_or_environment() {
        let settings = Settings::from_defaults().expect("defaults are complete");
        assert_eq!(settings.service.http.port, 4005);
        assert!(settings.vault.key().is_err(), "no key by default");
        assert!(settings.service.http.max_body_bytes > crate::domain::document::MAX_BYTES);
        assert_eq!(settings.pricing.simple_letter.to_string(), "1.39");
    }
}
