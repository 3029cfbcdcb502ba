//! Settings of the finance subgraph. Layered: defaults in code, then an optional YAML file
//! (`FINANCE_CONFIG_FILE`), then environment variables `FINANCE__SECTION__KEY`
//! (e.g. `FINANCE__DATABASE__URL`, `FINANCE__AUTH__JWKS_URL`).

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
    pub documents: DocumentSettings,
}

/// Where issued invoices' PDFs are kept and how clients reach them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSettings {
    /// Directory of the local document store.
    pub dir: std::path::PathBuf,
    /// This subgraph's public base URL: `pdfUrl` is `<public_url>/invoices/<id>/pdf`.
    pub public_url: String,
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
            .set_default("http.port", 4003)?
            .set_default(
                "database.url",
                "postgres://postgres@127.0.0.1:5432/crm_finance",
            )?
            .set_default(
                "auth.jwks_url",
                "http://127.0.0.1:4001/.well-known/jwks.json",
            )?
            .set_default("auth.issuer", "crm-core")?
            .set_default("auth.audience", "crm")?
            .set_default("documents.dir", ".data/finance-documents")?
            .set_default("documents.public_url", "http://127.0.0.1:4003")?;
        subgraph_kit::settings::load(defaults, "FINANCE")
    }
}

#[cfg(test)]
mod tests {
    use super::Settings;

    #[test]
    fn the_defaults_load_without_a_file_or_environment() {
        let settings = Settings::load().expect("defaults are complete");
        assert_eq!(settings.http.port, 4003);
        assert_eq!(settings.events.subject_prefix, "crm.events");
    }
}
