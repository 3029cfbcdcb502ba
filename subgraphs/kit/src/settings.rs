//! Settings, the same way for every subgraph: defaults in code, then an optional YAML file
//! named by `<NAME>_CONFIG_FILE`, then environment variables `<NAME>__SECTION__KEY`
//! (`COMMERCIAL__DATABASE__URL`, `CORE__HTTP__PORT`…).
//!
//! Every subgraph's settings flatten the common block, [`ServiceSettings`] (`http`,
//! `database`, `auth`, `events`), next to sections of their own.

use std::collections::HashMap;

use anyhow::Context;
pub use config::ConfigError;
use config::{builder::DefaultState, ConfigBuilder};
use serde::{de::DeserializeOwned, Deserialize};

use crate::{db::DatabaseSettings, events::EventsSettings, server::HttpSettings};

/// The defaults layer a subgraph adds its own defaults to.
pub type Defaults = ConfigBuilder<DefaultState>;

/// Issuer and audience of the tokens core issues (and every subgraph expects by default).
pub const DEFAULT_ISSUER: &str = "crm-core";
pub const DEFAULT_AUDIENCE: &str = "crm";
/// Core's address when everything runs on one machine.
pub const DEFAULT_CORE_URL: &str = "http://127.0.0.1:4001";

/// What every subgraph is configured with.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceSettings<A = VerifySettings> {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    /// How tokens are verified (core, which issues them, has its own section).
    pub auth: A,
    pub events: EventsSettings,
}

/// How a subgraph verifies access tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySettings {
    /// The JWKS verifying access tokens (core's, or an OIDC provider's).
    #[serde(default = "default_jwks_url")]
    pub jwks_url: String,
    /// `iss` every token must carry.
    pub issuer: String,
    /// `aud` every token must carry.
    pub audience: String,
}

fn default_jwks_url() -> String {
    format!("{DEFAULT_CORE_URL}/.well-known/jwks.json")
}

impl VerifySettings {
    /// Verifying core's tokens with the JWKS at `jwks_url`.
    pub fn new(jwks_url: &str) -> Self {
        Self {
            jwks_url: jwks_url.to_owned(),
            issuer: DEFAULT_ISSUER.into(),
            audience: DEFAULT_AUDIENCE.into(),
        }
    }

    /// The verifier these settings describe (keys fetched on first use, refreshed on an
    /// unknown key id at most every 30 s).
    pub fn verifier(&self) -> crate::auth::TokenVerifier {
        crate::auth::TokenVerifier::remote(
            crate::auth::TokenPolicy {
                issuer: self.issuer.clone(),
                audience: self.audience.clone(),
            },
            self.jwks_url.clone(),
            std::time::Duration::from_secs(30),
        )
    }
}

impl<A> ServiceSettings<A> {
    /// A subgraph on loopback `port` (0: any free one) over `database_url`, with `auth` and
    /// `events`: what tests and the development stack start.
    pub fn local(port: u16, database_url: &str, auth: A, events: EventsSettings) -> Self {
        Self {
            http: HttpSettings::local(port),
            database: DatabaseSettings::new(database_url),
            auth,
            events,
        }
    }
}

/// A subgraph's settings type: its name (the configuration prefix), default port, and the
/// sections it adds to the common block.
pub trait SubgraphSettings: DeserializeOwned {
    /// `core`, `commercial`…: the prefix is its upper case, the default database `crm_<name>`.
    const NAME: &'static str;
    /// The port it listens on by default.
    const PORT: u16;
    /// Its top-level sections besides `http`, `database`, `auth` and `events`.
    const SECTIONS: &'static [&'static str];

    /// Its database.
    fn database(&self) -> &DatabaseSettings;

    /// Sets the defaults of its own sections (and of `auth` beyond issuer and audience).
    ///
    /// # Errors
    /// When a default cannot be set (a key of the wrong shape).
    fn defaults(builder: Defaults) -> Result<Defaults, ConfigError>;

    /// Loads the settings from defaults, the optional file and the environment.
    ///
    /// # Errors
    /// When a layer is unreadable, a value is invalid, or a section is unknown.
    fn load() -> anyhow::Result<Self> {
        load::<Self>(true)
    }

    /// The defaults alone: no file, no environment.
    ///
    /// # Errors
    /// When the defaults are incomplete (a bug).
    fn from_defaults() -> anyhow::Result<Self> {
        load::<Self>(false)
    }
}

const COMMON_SECTIONS: &[&str] = &["http", "database", "auth", "events"];

fn common_defaults<S: SubgraphSettings>(builder: Defaults) -> Result<Defaults, ConfigError> {
    EventsSettings::set_defaults(builder)?
        .set_default("http.host", "127.0.0.1")?
        .set_default("http.port", S::PORT)?
        .set_default(
            "database.url",
            format!("postgres://postgres@127.0.0.1:5432/crm_{}", S::NAME),
        )?
        .set_default("auth.issuer", DEFAULT_ISSUER)?
        .set_default("auth.audience", DEFAULT_AUDIENCE)
}

fn load<S: SubgraphSettings>(with_environment: bool) -> anyhow::Result<S> {
    let prefix = S::NAME.to_uppercase();
    let mut builder = S::defaults(common_defaults::<S>(config::Config::builder())?)?;
    if with_environment {
        if let Ok(file) = std::env::var(format!("{prefix}_CONFIG_FILE")) {
            builder = builder.add_source(config::File::with_name(&file));
        }
        // Environment values are text. The common block's numbers and booleans read them
        // through `lenient` (serde hands flattened fields their raw value, so config's own
        // conversion does not apply there); every other value keeps its text as written.
        builder = builder.add_source(config::Environment::with_prefix(&prefix).separator("__"));
    }
    let config = builder.build()?;
    // Flattening forgoes serde's `deny_unknown_fields` at the top level: checked here.
    let sections: HashMap<String, config::Value> = config.clone().try_deserialize()?;
    let mut unknown: Vec<&str> = sections
        .keys()
        .map(String::as_str)
        .filter(|key| !COMMON_SECTIONS.contains(key) && !S::SECTIONS.contains(key))
        .collect();
    unknown.sort_unstable();
    anyhow::ensure!(
        unknown.is_empty(),
        "unknown {} settings section(s): {} (known: {}, {})",
        S::NAME,
        unknown.join(", "),
        COMMON_SECTIONS.join(", "),
        S::SECTIONS.join(", ")
    );
    config
        .try_deserialize()
        .with_context(|| format!("invalid {} settings", S::NAME))
}

/// Reads a number (or any `FromStr` value) written natively (a YAML file) or as text (the
/// environment): for the fields of the flattened common block.
///
/// # Errors
/// When the text does not parse.
pub fn lenient<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + std::str::FromStr,
    T::Err: std::fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written<T> {
        Native(T),
        Text(String),
    }
    match Written::<T>::deserialize(deserializer)? {
        Written::Native(value) => Ok(value),
        Written::Text(text) => text.trim().parse().map_err(serde::de::Error::custom),
    }
}

/// Reads a boolean written natively or as text: `true`/`false`, `yes`/`no`, `on`/`off`,
/// `1`/`0`, any case (what config accepts elsewhere).
///
/// # Errors
/// When the text is none of those.
pub fn lenient_bool<'de, D>(deserializer: D) -> Result<bool, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Native(bool),
        Number(i64),
        Text(String),
    }
    match Written::deserialize(deserializer)? {
        Written::Native(value) => Ok(value),
        Written::Number(n) => Ok(n != 0),
        Written::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" => Ok(false),
            other => Err(serde::de::Error::custom(format!(
                "{other:?} is not a boolean"
            ))),
        },
    }
}

/// A key's PEM, given inline (`pem`) or in a file (`file`), inline first.
///
/// # Errors
/// `missing` when neither is set; the file's error when it cannot be read.
pub fn read_pem(
    pem: Option<&secrecy::SecretString>,
    file: Option<&std::path::Path>,
    missing: &str,
) -> anyhow::Result<secrecy::SecretString> {
    read_secret(pem, file, missing)
}

/// A secret given inline (`value`) or in a file (`file`, a Docker secret), inline first.
///
/// # Errors
/// `missing` when neither is set; the file's error when it cannot be read.
pub fn read_secret(
    value: Option<&secrecy::SecretString>,
    file: Option<&std::path::Path>,
    missing: &str,
) -> anyhow::Result<secrecy::SecretString> {
    match (value, file) {
        (Some(value), _) => Ok(value.clone()),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map(secrecy::SecretString::from)
            .with_context(|| format!("cannot read {}", path.display())),
        (None, None) => anyhow::bail!("{missing}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Fields {
        #[serde(deserialize_with = "lenient")]
        port: u16,
        #[serde(deserialize_with = "lenient_bool")]
        flag: bool,
        text: String,
    }

    #[derive(Debug, Deserialize)]
    struct Outer {
        #[serde(flatten)]
        fields: Fields,
    }

    #[test]
    fn flattened_numbers_and_booleans_read_text_and_text_stays_text() {
        let from_text: Outer = serde_json::from_value(
            serde_json::json!({"port": "4002", "flag": "Yes", "text": "0123456"}),
        )
        .expect("text parses");
        assert_eq!(from_text.fields.port, 4002);
        assert!(from_text.fields.flag);
        assert_eq!(from_text.fields.text, "0123456");
        let native: Outer =
            serde_json::from_value(serde_json::json!({"port": 80, "flag": false, "text": "x"}))
                .expect("native values");
        assert_eq!((native.fields.port, native.fields.flag), (80, false));
        let bad = serde_json::from_value::<Outer>(
            serde_json::json!({"port": "eighty", "flag": true, "text": ""}),
        );
        assert!(bad.is_err());
    }
}
