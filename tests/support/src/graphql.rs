//! A typed GraphQL client for tests: run an operation, read `data` or the error code.

use serde_json::{json, Value};

/// A GraphQL response, as tests look at it.
#[derive(Debug, Clone)]
pub struct GqlResponse {
    pub status: u16,
    pub body: Value,
}

impl GqlResponse {
    /// `data`, after asserting there were no errors.
    ///
    /// # Panics
    /// When the response carries errors.
    #[track_caller]
    pub fn data(&self) -> &Value {
        assert!(
            self.errors().is_empty(),
            "expected no errors, got status {}: {}",
            self.status,
            self.body
        );
        &self.body["data"]
    }

    pub fn errors(&self) -> Vec<Value> {
        self.body["errors"].as_array().cloned().unwrap_or_default()
    }

    /// The `extensions.code` of the first error.
    ///
    /// # Panics
    /// When the response carries no error.
    #[track_caller]
    pub fn error_code(&self) -> String {
        let errors = self.errors();
        let first = errors
            .first()
            .unwrap_or_else(|| panic!("expected an error, got {}", self.body));
        first["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("error without code: {first}"))
            .to_owned()
    }
}

/// Posts GraphQL operations to one endpoint, with or without a bearer token.
#[derive(Debug, Clone)]
pub struct GraphqlClient {
    pub http: reqwest::Client,
    pub url: String,
    pub token: Option<String>,
}

impl GraphqlClient {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            // A connection idle for a while is not reused: a test that blocks its runtime (a
            // validator run synchronously) would otherwise send on one the server has closed.
            http: reqwest::Client::builder()
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .unwrap_or_default(),
            url: url.into(),
            token: None,
        }
    }

    /// The same client acting with `token`.
    pub fn with_token(&self, token: impl Into<String>) -> Self {
        Self {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    /// Runs `query` with `variables`.
    ///
    /// # Panics
    /// When the server cannot be reached or answers something that is not JSON.
    pub async fn run(&self, query: &str, variables: Value) -> GqlResponse {
        self.run_with_headers(query, variables, &[]).await
    }

    /// Runs `query` with extra request headers.
    ///
    /// # Panics
    /// When the server cannot be reached or answers something that is not JSON.
    pub async fn run_with_headers(
        &self,
        query: &str,
        variables: Value,
        headers: &[(&str, &str)],
    ) -> GqlResponse {
        let mut request = self
            .http
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|err| panic!("POST {} failed: {err}", self.url));
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or_else(|err| {
            panic!(
                "non-JSON answer ({status}) from {}: {err}: {text}",
                self.url
            )
        });
        GqlResponse { status, body }
    }
}
