//! Settings of the engagement subgraph: the kit's common block (`http`, `database`, `auth`,
//! `events`), where core's directory answers, and how e-mail leaves. Layered (see
//! `subgraph_kit::settings`): defaults, then `ENGAGEMENT_CONFIG_FILE`, then
//! `ENGAGEMENT__SECTION__KEY` (`ENGAGEMENT__DATABASE__URL`, `ENGAGEMENT__AUTH__JWKS_URL`…).

use serde::Deserialize;
use subgraph_kit::{
    directory::DirectorySettings,
    settings::{ConfigError, Defaults, ServiceSettings, SubgraphSettings},
};

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    #[serde(flatten)]
    pub service: ServiceSettings,
    #[serde(default)]
    pub directory: DirectorySettings,
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
    /// PEM X25519 private key opening the secrets messages carry sealed (invitation links;
    /// core holds its public half); takes precedence over the file.
    #[serde(default)]
    pub opening_key_pem: Option<secrecy::SecretString>,
    /// File holding that PEM key.
    #[serde(default)]
    pub opening_key_file: Option<std::path::PathBuf>,
}

impl EmailSettings {
    /// A plain SMTP relay on this machine (a development catcher such as Mailpit on 1025, or
    /// a test's sink), retrying after `retry_delay_seconds`, opening secrets with `key` (PEM).
    pub fn local(smtp_port: u16, retry_delay_seconds: u64, key: secrecy::SecretString) -> Self {
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
            opening_key_pem: Some(key),
            opening_key_file: None,
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

impl SubgraphSettings for Settings {
    const NAME: &'static str = "engagement";
    const PORT: u16 = 4004;
    const SECTIONS: &'static [&'static str] = &["directory", "email"];

    fn database(&self) -> &subgraph_kit::db::DatabaseSettings {
        &self.service.database
    }

    fn defaults(builder: Defaults) -> Result<Defaults, ConfigError> {
        builder
            .set_default("email.smtp_host", "127.0.0.1")?
            .set_default("email.smtp_port", 1025)?
            .set_default("email.smtp_tls", "none")?
            .set_default("email.from", "CRM <no-reply@crm.example>")?
            .set_default("email.app_url", "http://localhost:3000")?
            .set_default("email.max_attempts", 5)?
            .set_default("email.retry_delay_seconds", 60)
    }
}

impl Settings {
    /// Engagement over `service`, its directory reading through to `core_url`, its e-mail to
    /// an SMTP relay on this machine's `smtp_port`, retried at once, opening secrets with
    /// `mail_key` (PEM).
    pub fn for_tests(
        service: ServiceSettings,
        core_url: &str,
        smtp_port: u16,
        mail_key: secrecy::SecretString,
    ) -> Self {
        Self {
            service,
            directory: DirectorySettings {
                core_url: core_url.to_owned(),
            },
            email: EmailSettings::local(smtp_port, 0, mail_key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Settings, SmtpTls};
    use subgraph_kit::settings::SubgraphSettings;

    #[test]
    fn the_defaults_load_without_a_file_or_environment() {
        let settings = Settings::from_defaults().expect("defaults are complete");
        assert_eq!(settings.service.http.port, 4004);
        assert_eq!(settings.service.events.subject_prefix, "crm.events");
        assert_eq!(settings.email.smtp_tls, SmtpTls::None);
        assert_eq!(settings.email.max_attempts, 5);
    }
}
