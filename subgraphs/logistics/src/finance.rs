//! Finance, as logistics calls it: an issued invoice's PDF, fetched with the deployment's
//! internal token for the organisation it belongs to (`GET /internal/invoices/{id}/pdf`) and
//! checked against the SHA-256 that `invoice.issued` announced — a letter never carries a
//! document other than the one issued.

use std::time::Duration;

use subgraph_kit::{
    digest::sha256_hex,
    internal::{InternalToken, ORGANISATION_HEADER},
};
use uuid::Uuid;

/// Why an invoice's PDF could not be had.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The deployment gave logistics no internal token: invoices cannot be posted.
    #[error("no internal token is configured (LOGISTICS__FINANCE__INTERNAL_TOKEN_FILE): invoices cannot be fetched from finance")]
    NotConfigured,
    /// Finance is unreachable or failing: worth retrying.
    #[error("finance is unavailable: {0}")]
    Unavailable(String),
    /// Finance refused or does not have it: retrying will not help.
    #[error("finance refused the invoice's PDF: {0}")]
    Refused(String),
    /// What finance served is not the document issued.
    #[error("the PDF finance served has SHA-256 {served}, not the {announced} issued")]
    Mismatch { served: String, announced: String },
}

/// Finance's internal routes.
#[derive(Clone)]
pub struct Finance {
    http: reqwest::Client,
    url: String,
    token: Option<InternalToken>,
}

impl std::fmt::Debug for Finance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Finance")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Finance {
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(url: &str, token: Option<InternalToken>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            url: url.trim_end_matches('/').to_owned(),
            token,
        })
    }

    /// The issued PDF of invoice `id` of `organisation_id`, checked against `sha256`.
    ///
    /// # Errors
    /// See [`FetchError`].
    pub async fn invoice_pdf(
        &self,
        organisation_id: Uuid,
        id: Uuid,
        sha256: &str,
    ) -> Result<Vec<u8>, FetchError> {
        let token = self.token.as_ref().ok_or(FetchError::NotConfigured)?;
        let url = format!("{}/internal/invoices/{id}/pdf", self.url);
        let response = self
            .http
            .get(&url)
            .bearer_auth(token.expose())
            .header(ORGANISATION_HEADER, organisation_id.to_string())
            .send()
            .await
            .map_err(|e| FetchError::Unavailable(format!("{url}: {e}")))?;
        let status = response.status();
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(FetchError::Unavailable(format!("{url} answered {status}")));
        }
        if !status.is_success() {
            return Err(FetchError::Refused(format!("{url} answered {status}")));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| FetchError::Unavailable(format!("{url}: {e}")))?
            .to_vec();
        let served = sha256_hex(&bytes);
        if !served.eq_ignore_ascii_case(sha256) {
            return Err(FetchError::Mismatch {
                served,
                announced: sha256.to_owned(),
            });
        }
        Ok(bytes)
    }
}
