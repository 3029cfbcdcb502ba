//! Settings of the commercial subgraph. Layered: defaults in code, then an optional YAML file
//! (`COMMERCIAL_CONFIG_FILE`), then environment variables `COMMERCIAL__SECTION__KEY`
//! (e.g. `COMMERCIAL__DATABASE__URL`, `COMMERCIAL__AUTH__JWKS_URL`).

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
    pub jobs: JobSettings,
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

/// Scheduled work.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSettings {
    /// Seconds between two runs of the contract expiry job (0 turns it off).
    pub expiry_interval_seconds: u64,
}

impl Settings {
    /// Loads the settings from defaults, the optional file and the environment.
    pub fn load() -> anyhow::Result<Self> {
        let defaults = EventsSettings::set_defaults(config::Config::builder())?
            .set_default("http.host", "127.0.0.1")?
            .set_default("http.port", 4002)?
            .set_default(
                "database.url",
                "postgres://postgres@127.0.0.1:5432/crm_commercial",
            )?
            .set_default(
                "auth.jwks_url",
                "http://127.0.0.1:4001/.well-known/jwks.json",
            )?
            .set_default("auth.issuer", "crm-core")?
            .set_default("auth.audience", "crm")?
            .set_default("jobs.expiry_interval_seconds", 3600)?;
        subgraph_kit::settings::load(defaults, "COMMERCIAL")
    }
}

#[cfg(test)]
mod tests {
    use super::Settings;

    #[test]
    fn the_defaults_load_without_a_file_or_environment() {
        let settings = Settings::load().expect("defaults are complete");
        assert_eq!(settings.http.port, 4002);
        assert_eq!(settings.events.subject_prefix, "crm.events");
        assert_eq!(settings.jobs.expiry_interval_seconds, 3600);
    }
}
