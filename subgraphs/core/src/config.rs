//! Settings of the core subgraph. Layered: defaults in code, then an optional YAML file
//! (`CORE_CONFIG_FILE`), then environment variables `CORE__SECTION__KEY`
//! (e.g. `CORE__DATABASE__URL`, `CORE__HTTP__PORT`, `CORE__AUTH__SIGNING_KEY_FILE`,
//! `CORE__EVENTS__NATS_URL`).

use std::path::PathBuf;

use secrecy::SecretString;
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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// `iss` of the tokens core issues and expects.
    pub issuer: String,
    /// `aud` of the tokens core issues and expects.
    pub audience: String,
    /// Lifetime of an access token, in seconds.
    pub token_ttl_seconds: i64,
    /// PEM (PKCS#8) Ed25519 private key signing the tokens; takes precedence over the file.
    #[serde(default)]
    pub signing_key_pem: Option<SecretString>,
    /// File holding that PEM key.
    #[serde(default)]
    pub signing_key_file: Option<PathBuf>,
    /// Days an invitation stays valid.
    pub invitation_ttl_days: i64,
}

impl Settings {
    /// Loads the settings from defaults, the optional file and the environment.
    pub fn load() -> anyhow::Result<Self> {
        let defaults = EventsSettings::set_defaults(config::Config::builder())?
            .set_default("http.host", "127.0.0.1")?
            .set_default("http.port", 4001)?
            .set_default(
                "database.url",
                "postgres://postgres@127.0.0.1:5432/crm_core",
            )?
            .set_default("auth.issuer", "crm-core")?
            .set_default("auth.audience", "crm")?
            .set_default("auth.token_ttl_seconds", 3600)?
            .set_default("auth.invitation_ttl_days", 7)?;
        subgraph_kit::settings::load(defaults, "CORE")
    }
}

#[cfg(test)]
mod tests {
    use super::Settings;

    #[test]
    fn the_defaults_load_without_a_file_or_environment() {
        let settings = Settings::load().expect("defaults are complete");
        assert_eq!(settings.http.port, 4001);
        assert_eq!(settings.events.stream, "CRM_EVENTS");
        assert_eq!(settings.events.live_prefix, "crm.live");
        assert_eq!(settings.auth.token_ttl_seconds, 3600);
    }
}
