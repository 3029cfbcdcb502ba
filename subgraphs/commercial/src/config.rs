//! Settings of the commercial subgraph: the kit's common block (`http`, `database`, `auth`,
//! `events`), where core's directory answers, and the scheduled jobs. Layered (see
//! `subgraph_kit::settings`): defaults, then `COMMERCIAL_CONFIG_FILE`, then
//! `COMMERCIAL__SECTION__KEY` (`COMMERCIAL__DATABASE__URL`, `COMMERCIAL__AUTH__JWKS_URL`…).

use std::time::Duration;

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
    pub jobs: JobSettings,
}

/// Scheduled work.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSettings {
    /// Seconds between two runs of the contract expiry job (0 turns it off).
    pub expiry_interval_seconds: u64,
}

impl SubgraphSettings for Settings {
    const NAME: &'static str = "commercial";
    const PORT: u16 = 4002;
    const SECTIONS: &'static [&'static str] = &["directory", "jobs"];

    fn database(&self) -> &subgraph_kit::db::DatabaseSettings {
        &self.service.database
    }

    fn defaults(builder: Defaults) -> Result<Defaults, ConfigError> {
        builder.set_default("jobs.expiry_interval_seconds", 3600)
    }
}

impl Settings {
    /// Commercial over `service`, its directory reading through to `core_url`; tests run the
    /// expiry job themselves, so it is off.
    pub fn for_tests(service: ServiceSettings, core_url: &str) -> Self {
        Self {
            service,
            directory: DirectorySettings {
                core_url: core_url.to_owned(),
            },
            jobs: JobSettings {
                expiry_interval_seconds: 0,
            },
        }
    }
}

impl JobSettings {
    pub fn expiry_interval(&self) -> Duration {
        Duration::from_secs(self.expiry_interval_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::Settings;
    use subgraph_kit::settings::SubgraphSettings;

    #[test]
    fn the_defaults_load_without_a_file_or_environment() {
        let settings = Settings::from_defaults().expect("defaults are complete");
        assert_eq!(settings.service.http.port, 4002);
        assert_eq!(settings.service.events.subject_prefix, "crm.events");
        assert_eq!(settings.jobs.expiry_interval_seconds, 3600);
    }
}
