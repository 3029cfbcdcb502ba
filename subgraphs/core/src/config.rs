//! Settings of the core subgraph: the kit's common block (`http`, `database`, `events`) with
//! core's own `auth` section, since core issues the tokens everyone else verifies. Layered
//! (see `subgraph_kit::settings`): defaults, then `CORE_CONFIG_FILE`, then `CORE__SECTION__KEY`
//! (`CORE__DATABASE__URL`, `CORE__HTTP__PORT`, `CORE__AUTH__SIGNING_KEY_FILE`,
//! `CORE__EVENTS__NATS_URL`…).

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;
use subgraph_kit::{
    events::EventsSettings,
    settings::{ConfigError, Defaults, ServiceSettings, SubgraphSettings},
};

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    #[serde(flatten)]
    pub service: ServiceSettings<AuthSettings>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// `iss` of the tokens core issues and expects.
    pub issuer: String,
    /// `aud` of the tokens core issues and expects.
    pub audience: String,
    /// Lifetime of an access token, in seconds (15 minutes by default): roles and memberships
    /// are re-read at every refresh.
    #[serde(deserialize_with = "subgraph_kit::settings::lenient")]
    pub token_ttl_seconds: i64,
    /// Days a refresh token stays valid unused (each use starts a new one).
    #[serde(deserialize_with = "subgraph_kit::settings::lenient")]
    pub refresh_ttl_days: i64,
    /// Days a session lasts at most, however often it is refreshed: then log in again.
    #[serde(deserialize_with = "subgraph_kit::settings::lenient")]
    pub session_max_days: i64,
    /// PEM (PKCS#8) Ed25519 private key signing the tokens; takes precedence over the file.
    #[serde(default)]
    pub signing_key_pem: Option<SecretString>,
    /// File holding that PEM key.
    #[serde(default)]
    pub signing_key_file: Option<PathBuf>,
    /// Days an invitation stays valid.
    #[serde(deserialize_with = "subgraph_kit::settings::lenient")]
    pub invitation_ttl_days: i64,
    /// PEM X25519 public key of the mailer (engagement): the secrets its e-mails carry
    /// (invitation links) cross the bus sealed with it. Not a secret; takes precedence over
    /// the file.
    #[serde(default)]
    pub mail_sealing_key_pem: Option<SecretString>,
    /// File holding that PEM key.
    #[serde(default)]
    pub mail_sealing_key_file: Option<PathBuf>,
}

impl SubgraphSettings for Settings {
    const NAME: &'static str = "core";
    const PORT: u16 = 4001;
    const SECTIONS: &'static [&'static str] = &[];

    fn database(&self) -> &subgraph_kit::db::DatabaseSettings {
        &self.service.database
    }

    fn defaults(builder: Defaults) -> Result<Defaults, ConfigError> {
        builder
            .set_default("auth.token_ttl_seconds", 900)?
            .set_default("auth.refresh_ttl_days", 30)?
            .set_default("auth.session_max_days", 90)?
            .set_default("auth.invitation_ttl_days", 7)
    }
}

impl Settings {
    /// Core on a free port over `database_url`, signing with `signing_key`, its tokens valid
    /// `token_ttl_seconds`, sealing mail secrets with `mail_sealing_key` (PEM).
    pub fn for_tests(
        database_url: &str,
        signing_key: SecretString,
        mail_sealing_key: SecretString,
        token_ttl_seconds: i64,
        events: EventsSettings,
    ) -> Self {
        Self::local(0, database_url, signing_key, mail_sealing_key, events)
            .with_token_ttl(token_ttl_seconds)
    }

    /// Core on loopback `port` over `database_url`, signing with `signing_key`, sealing mail
    /// secrets with `mail_sealing_key` (PEM), with the default token and invitation lifetimes.
    pub fn local(
        port: u16,
        database_url: &str,
        signing_key: SecretString,
        mail_sealing_key: SecretString,
        events: EventsSettings,
    ) -> Self {
        let auth = AuthSettings {
            issuer: subgraph_kit::settings::DEFAULT_ISSUER.into(),
            audience: subgraph_kit::settings::DEFAULT_AUDIENCE.into(),
            token_ttl_seconds: 900,
            refresh_ttl_days: 30,
            session_max_days: 90,
            signing_key_pem: Some(signing_key),
            signing_key_file: None,
            invitation_ttl_days: 7,
            mail_sealing_key_pem: Some(mail_sealing_key),
            mail_sealing_key_file: None,
        };
        Self {
            service: ServiceSettings::local(port, database_url, auth, events),
        }
    }

    #[must_use]
    pub fn with_token_ttl(mut self, seconds: i64) -> Self {
        self.service.auth.token_ttl_seconds = seconds;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::Settings;
    use subgraph_kit::settings::SubgraphSettings;

    #[test]
    fn the_defaults_load_without_a_file_or_environment() {
        let settings = Settings::from_defaults().expect("defaults are complete");
        assert_eq!(settings.service.http.port, 4001);
        assert_eq!(settings.service.events.stream, "CRM_EVENTS");
        assert_eq!(settings.service.events.live_prefix, "crm.live");
        assert_eq!(settings.service.auth.token_ttl_seconds, 900);
        assert_eq!(settings.service.auth.refresh_ttl_days, 30);
        assert_eq!(settings.service.auth.session_max_days, 90);
    }
}
