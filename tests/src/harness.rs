//! The end-to-end harness: a fresh core database, core in-process, and the gateway binary over
//! a supergraph, each on a free port. Everything stops when the `Stack` drops.

use std::{collections::HashMap, path::PathBuf};

use serde_json::{json, Value};
use subgraph_kit::testing::{GraphqlClient, TestDatabase};

use crate::{
    catalogue::{repo_root, SUPERGRAPH_PATH},
    gateway::{start_gateway, GatewayProcess},
    stack::{
        commercial_settings, core_settings, engagement_settings, finance_settings,
        start_commercial, start_core, start_engagement, start_finance, RunningSubgraph,
    },
};

pub struct Stack {
    /// Core's token signing key (tests mint special tokens with it).
    pub signing_key: secrecy::SecretString,
    pub engagement: RunningSubgraph,
    pub engagement_db: TestDatabase,
    pub commercial: RunningSubgraph,
    pub commercial_db: TestDatabase,
    pub finance: RunningSubgraph,
    pub finance_db: TestDatabase,
    pub events: subgraph_kit::events::EventsSettings,
    pub gateway: GatewayProcess,
    pub core: RunningSubgraph,
    pub core_db: TestDatabase,
    /// Extra subgraphs' URLs by name (tests that add their own).
    pub extra_urls: HashMap<String, String>,
}

pub const PASSWORD: &str = "a long enough password";

impl Stack {
    /// The committed supergraph over a fresh core.
    pub async fn start() -> Self {
        Self::start_with(&repo_root().join(SUPERGRAPH_PATH), HashMap::new()).await
    }

    /// `supergraph` over a fresh core plus `extra_urls` (subgraph name → GraphQL URL).
    pub async fn start_with(
        supergraph: &std::path::Path,
        extra_urls: HashMap<String, String>,
    ) -> Self {
        let core_db = TestDatabase::create(&subgraph_core::MIGRATOR).await;
        let key = subgraph_core::tokens::generate_signing_key_pem().expect("a signing key");
        let signing_key = key.clone();
        let events = subgraph_kit::testing::isolated_events(&subgraph_kit::testing::nats_url());
        let core = start_core(
            core_settings(&core_db.url, key, 0, events.clone()),
            Some(core_db.pool.clone()),
        )
        .await
        .expect("core starts");
        let jwks_url = format!("{}/.well-known/jwks.json", core.base_url);
        let engagement_db = TestDatabase::create(&subgraph_engagement::MIGRATOR).await;
        let engagement = start_engagement(
            engagement_settings(&engagement_db.url, &jwks_url, 0, events.clone()),
            Some(engagement_db.pool.clone()),
        )
        .await
        .expect("engagement starts");
        let commercial_db = TestDatabase::create(&subgraph_commercial::MIGRATOR).await;
        let commercial = start_commercial(
            commercial_settings(&commercial_db.url, &jwks_url, 0, events.clone()),
            Some(commercial_db.pool.clone()),
        )
        .await
        .expect("commercial starts");
        let finance_db = TestDatabase::create(&subgraph_finance::MIGRATOR).await;
        let finance = start_finance(
            finance_settings(
                &finance_db.url,
                &jwks_url,
                0,
                events.clone(),
                std::env::temp_dir().join(format!("crm-finance-documents-{}", finance_db.name)),
            ),
            Some(finance_db.pool.clone()),
        )
        .await
        .expect("finance starts");
        let mut urls = extra_urls.clone();
        urls.insert("commercial".into(), commercial.url());
        urls.insert("finance".into(), finance.url());
        urls.insert("core".into(), core.url());
        urls.insert("engagement".into(), engagement.url());
        let log = log_path();
        let gateway = start_gateway(supergraph, &urls, &jwks_url, 0, Some(&log))
            .await
            .unwrap_or_else(|err| {
                let output = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("the gateway did not start: {err:#}\n--- gateway log ---\n{output}")
            });
        Self {
            signing_key,
            engagement,
            engagement_db,
            commercial,
            commercial_db,
            finance,
            finance_db,
            events,
            gateway,
            core,
            core_db,
            extra_urls,
        }
    }

    /// A client of the gateway, without a token.
    pub fn client(&self) -> GraphqlClient {
        GraphqlClient::new(self.gateway.url())
    }

    /// Signs up through the gateway; returns a client acting as the new owner.
    pub async fn sign_up(&self, email: &str, organisation: &str) -> (GraphqlClient, Value) {
        let response = self
            .client()
            .run(
                "mutation($input: SignUpInput!) { signUp(input: $input) { token user { id } organisation { id name } role } }",
                json!({"input": {"email": email, "password": PASSWORD, "firstName": "Ada", "lastName": "Owner", "organisationName": organisation}}),
            )
            .await;
        let payload = response.data()["signUp"].clone();
        let token = payload["token"].as_str().expect("a token").to_owned();
        (self.client().with_token(token), payload)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        subgraph_kit::testing::delete_stream_blocking(&self.events.nats_url, &self.events.stream);
    }
}

fn log_path() -> PathBuf {
    std::env::temp_dir().join(format!("crm-gateway-{}.log", uuid::Uuid::new_v4().simple()))
}
