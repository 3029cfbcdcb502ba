//! Settings of the finance subgraph: the kit's common block (`http`, `database`, `auth`,
//! `events`), where core's directory answers, and where documents are kept. Layered (see
//! `subgraph_kit::settings`): defaults, then `FINANCE_CONFIG_FILE`, then
//! `FINANCE__SECTION__KEY` (`FINANCE__DATABASE__URL`, `FINANCE__AUTH__JWKS_URL`…).

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
    /// The deployment's internal token (inline, or in `internal_token_file`): with it our other
    /// services fetch an issued invoice's PDF at `/internal/invoices/<id>/pdf` (logistics
    /// posting it). Without one that route does not exist.
    #[serde(default)]
    pub internal_token: Option<secrecy::SecretString>,
    #[serde(default)]
    pub internal_token_file: Option<std::path::PathBuf>,
}

impl DocumentSettings {
    /// The internal token, when one is configured.
    ///
    /// # Errors
    /// When its file cannot be read or it is too short.
    pub fn internal_token(&self) -> anyhow::Result<Option<subgraph_kit::internal::InternalToken>> {
        if self.internal_token.is_none() && self.internal_token_file.is_none() {
            return Ok(None);
        }
        let token = subgraph_kit::settings::read_secret(
            self.internal_token.as_ref(),
            self.internal_token_file.as_deref(),
            "",
        )?;
        subgraph_kit::internal::InternalToken::new(token).map(Some)
    }
}

impl SubgraphSettings for Settings {
    const NAME: &'static str = "finance";
    const PORT: u16 = 4003;
    const SECTIONS: &'static [&'static str] = &["directory", "documents"];

    fn database(&self) -> &subgraph_kit::db::DatabaseSettings {
        &self.service.database
    }

    fn defaults(builder: Defaults) -> Result<Defaults, ConfigError> {
        builder
            .set_default("documents.dir", ".data/finance-documents")?
            .set_default("documents.public_url", "http://127.0.0.1:4003")
    }
}

impl Settings {
    /// Finance over `service`, its directory reading through to `core_url`, its documents in
    /// `documents_dir`. A port of 0 is replaced by a free one now, so that `pdfUrl` names it.
    pub fn for_tests(
        mut service: ServiceSettings,
        core_url: &str,
        documents_dir: std::path::PathBuf,
    ) -> Self {
        if service.http.port == 0 {
            service.http.port = std::net::TcpListener::bind((service.http.host.as_str(), 0))
                .and_then(|l| l.local_addr())
                .map_or(0, |a| a.port());
        }
        let public_url = format!("http://{}:{}", service.http.host, service.http.port);
        Self {
            service,
            directory: DirectorySettings {
                core_url: core_url.to_owned(),
            },
            documents: DocumentSettings {
                dir: documents_dir,
                public_url,
                internal_token: None,
                internal_token_file: None,
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
        assert_eq!(settings.service.http.port, 4003);
        assert_eq!(settings.service.events.subject_prefix, "crm.events");
    }
}
