//! Core and engagement, running (the shared harness), and fixtures: users acting on them.

use crm_events::EventSet;
use crm_test_support::{
    harness::{start, Harness},
    smtp::SmtpSink,
    TestDatabase,
};
use serde_json::{json, Value};
use subgraph_engagement::events::CoreEvent;
use subgraph_kit::runtime::Running;

pub use crm_test_support::Session;

pub struct TestApps {
    pub harness: Harness,
    pub smtp: SmtpSink,
    pub db: TestDatabase,
    /// Engagement's GraphQL endpoint (empty when the test runs engagement itself).
    pub url: String,
    /// Core's JWKS, for an engagement the test runs itself.
    pub jwks_url: String,
    _engagement: Option<Running>,
}

impl std::ops::Deref for TestApps {
    type Target = Harness;

    fn deref(&self) -> &Harness {
        &self.harness
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
    let mut harness = Harness::start().await;
    let db = TestDatabase::create(&subgraph_engagement::MIGRATOR).await;
    let smtp = SmtpSink::start().await;
    let mut engagement = None;
    let mut url = String::new();
    if with_engagement {
        let settings = subgraph_engagement::config::Settings::for_tests(
            harness.service(&db),
            &harness.base_url,
            smtp.port,
        );
        let running =
            start(subgraph_engagement::startup::build(settings, Some(db.pool.clone())).await);
        url = running.url();
        harness.set_target(&url);
        engagement = Some(running);
    }
    TestApps {
        jwks_url: harness.jwks_url(),
        harness,
        smtp,
        db,
        url,
        _engagement: engagement,
    }
}

impl TestApps {
    /// Waits until engagement has processed every event core recorded so far that its
    /// consumer listens to.
    pub async fn wait_caught_up(&self) {
        self.harness
            .wait_caught_up(&self.db.pool, "engagement-notifications", CoreEvent::TYPES)
            .await;
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
