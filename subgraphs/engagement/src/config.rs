//! Settings of the engagement subgraph. Layered: defaults in code, then an optional YAML file
//! (`ENGAGEMENT_CONFIG_FILE`), then environment variables `ENGAGEMENT__SECTION__KEY`
//! (e.g. `ENGAGEMENT__DATABASE__URL`, `ENGAGEMENT__AUTH__JWKS_URL`).

use anyhow::Context;
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
        let mut builder = config::Config::builder()
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
            .set_default("events.nats_url", "nats://127.0.0.1:4222")?
            .set_default("events.subject_prefix", "crm.events")?
            .set_default("events.stream", "CRM_EVENTS")?
            .set_default("events.duplicate_window_seconds", 120)?
            .set_default("events.retention_days", 7)?
            .set_default("events.live_prefix", "crm.live")?;
        if let Ok(file) = std::env::var("ENGAGEMENT_CONFIG_FILE") {
            builder = builder.add_source(config::File::with_name(&file));
        }
        builder
            .add_source(config::Environment::with_prefix("ENGAGEMENT").separator("__"))
            .build()?
            .try_deserialize()
            .context("invalid engagement settings")
    }
}
