//! Core and engagement, running (the shared harness), and fixtures: users acting on them.

use crm_events::EventSet;
use crm_test_support::{
    harness::{Harness, SubgraphApps},
    smtp::SmtpSink,
    TestDatabase,
};
use serde_json::{json, Value};
use subgraph_engagement::events::CoreEvent;

pub use crm_test_support::Session;

pub type TestApps = Apps;

/// Core and engagement, with the SMTP sink engagement sends to.
pub struct Apps {
    pub apps: SubgraphApps,
    pub smtp: SmtpSink,
    /// Core's JWKS, for an engagement the test runs itself.
    pub jwks_url: String,
}

impl std::ops::Deref for Apps {
    type Target = SubgraphApps;

    fn deref(&self) -> &SubgraphApps {
        &self.apps
    }
}

pub async fn spawn_apps() -> TestApps {
    spawn(true).await
}

/// Core in this process, engagement's database and SMTP sink ready, but no engagement: the
/// test runs it (as a child process, say).
pub async fn spawn_core_only() -> TestApps {
    spawn(false).await
}

async fn spawn(with_engagement: bool) -> TestApps {
    let harness = Harness::start().await;
    let db = TestDatabase::create(&subgraph_engagement::MIGRATOR).await;
    let smtp = SmtpSink::start().await;
    let mut built = None;
    if with_engagement {
        let settings = subgraph_engagement::config::Settings::for_tests(
            harness.service(&db),
            &harness.base_url,
            smtp.port,
            harness.mail_key.to_pem(),
        );
        built = Some(subgraph_engagement::startup::build(settings, Some(db.pool.clone())).await);
    }
    let jwks_url = harness.jwks_url();
    let directory = ("engagement-notifications", CoreEvent::TYPES);
    Apps {
        apps: SubgraphApps::new(harness, db, built, directory, false),
        smtp,
        jwks_url,
    }
}

pub async fn create_client(session: &Session, name: &str) -> Value {
    let response = session
        .core
        .run(
            "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
            json!({"input": {"kind": "PERSON", "name": name, "firstName": "Jeanne"}}),
        )
        .await;
    response.data()["createClient"].clone()
}
