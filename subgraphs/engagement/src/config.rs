//! Settings of the engagement subgraph. Layered: defaults in code, then an optional YAML file
//! (`ENGAGEMENT_CONFIG_FILE`), then environment variables `ENGAGEMENT__SECTION__KEY`
//! (e.g. `ENGAGEMENT__DATABASE__URL`, `ENGAGEMENT__AUTH__JWKS_URL`).

use serde::Deserialize;
pub use subgraph_kit::server::HttpSettings;
use subgraph_kit::{db::DatabaseSettings, events::EventsSettings};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub events: EventsSettings,
    pub email: EmailSettings,
}

/// How e-mail leaves: an SMTP relay.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// SMTP relay host.
    pub smtp_host: String,
    /// SMTP relay port (587 STARTTLS, 465 TLS, 25/1025 plain).
    pub smtp_port: u16,
    /// `none`, `starttls` or `tls`.
    pub smtp_tls: SmtpTls,
    /// SMTP user, if the relay wants authentication.
    #[serde(default)]
    pub smtp_username: Option<String>,
    /// SMTP password.
    #[serde(default)]
    pub smtp_password: Option<secrecy::SecretString>,
    /// The `From` of every message, e.g. `CRM <no-reply@example.fr>`.
    pub from: String,
    /// The web application's base URL, for links in messages.
    pub app_url: String,
    /// Deliveries tried before a message is FAILED.
    pub max_attempts: i32,
    /// First retry delay in seconds; doubled after each failure (capped at an hour).
    pub retry_delay_seconds: u64,
}

impl EmailSettings {
    /// A plain SMTP relay on this machine (a development catcher such as Mailpit on 1025, or
    /// a test's sink), retrying after `retry_delay_seconds`.
    pub fn local(smtp_port: u16, retry_delay_seconds: u64) -> Self {
        Self {
            smtp_host: "127.0.0.1".into(),
            smtp_port,
            smtp_tls: SmtpTls::None,
            smtp_username: None,
            smtp_password: None,
            from: "CRM <no-reply@crm.example>".into(),
            app_url: "http://localhost:3000".into(),
            max_attempts: 5,
            retry_delay_seconds,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// The JWKS verifying access tokens (core's, or an OIDC provider's).
    pub jwks_url: String,
    /// `iss` every token must carry.
    pub issuer: String,
    /// `aud` every token must carry.
    pub audience: String,
}

impl Settings {
    /// Loads the settings from defaults, the optional file and the environment.
    pub fn load() -> anyhow::Result<Self> {
        let defaults = EventsSettings::set_defaults(config::Config::builder())?
            .set_default("http.host", "127.0.0.1")?
            .set_default("http.port", 4004)?
            .set_default(
                "database.url",
                "postgres://postgres@127.0.0.1:5432/crm_engagement",
            )?
            .set_default(
                "auth.jwks_url",
                "http://127.0.0.1:4001/.well-known/jwks.json",
            )?
            .set_default("auth.issuer", "crm-core")?
            .set_default("auth.audience", "crm")?
            .set_default("email.smtp_host", "127.0.0.1")?
            .set_default("email.smtp_port", 1025)?
            .set_default("email.smtp_tls", "none")?
            .set_default("email.from", "CRM <no-reply@crm.example>")?
            .set_default("email.app_url", "http://localhost:3000")?
            .set_default("email.max_attempts", 5)?
            .set_default("email.retry_delay_seconds", 60)?;
        subgraph_kit::settings::load(defaults, "ENGAGEMENT")
    }
}

#[cfg(test)]
mod tests {
    use super::{Settings, SmtpTls};

    #[test]
    fn the_defaults_load_without_a_file_or_environment() {
        let settings = Settings::load().expect("defaults are complete");
        assert_eq!(settings.http.port, 4004);
        assert_eq!(settings.events.subject_prefix, "crm.events");
        assert_eq!(settings.email.smtp_tls, SmtpTls::None);
        assert_eq!(settings.email.max_attempts, 5);
    }
}
