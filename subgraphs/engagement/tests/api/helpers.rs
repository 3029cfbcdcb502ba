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
    /// Whether engagement runs (and mails).
    mails: bool,
}

impl std::ops::Deref for Apps {
    type Target = SubgraphApps;

    fn deref(&self) -> &SubgraphApps {
        &self.apps
    }
}

pub async fn spawn_apps() -> TestApps {
    spawn(true, None).await
}

/// Core in this process, engagement's database and SMTP sink ready, but no engagement: the
/// test runs it (as a child process, say).
pub async fn spawn_core_only() -> TestApps {
    spawn(false, None).await
}

/// Core alone (as [`spawn_core_only`]) publishing as `events` says: on a NATS server the
/// test owns, and may kill.
pub async fn spawn_core_only_on(events: subgraph_kit::events::EventsSettings) -> TestApps {
    spawn(false, Some(events)).await
}

async fn spawn(
    with_engagement: bool,
    events: Option<subgraph_kit::events::EventsSettings>,
) -> TestApps {
    let harness = match events {
        Some(events) => Harness::start_with(3600, events).await,
        None => Harness::start().await,
    };
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
        mails: with_engagement,
    }
}

impl Apps {
    /// Signs up `email` as the owner of `organisation`; with engagement running, once its
    /// sign-up confirmation was delivered, forgets it: what a test counts is its own mail.
    pub async fn sign_up(&self, email: &str, organisation: &str) -> Session {
        let session = self.apps.sign_up(email, organisation).await;
        if self.mails {
            let pool = self.db.pool.clone();
            let delivered = crm_test_support::wait_for(std::time::Duration::from_secs(20), || {
                let pool = pool.clone();
                async move {
                    let sent: i64 = sqlx::query_scalar(
                        "select count(*) from emails
                          where template = 'sign_up_confirmation' and recipient = $1
                            and status = 'SENT'",
                    )
                    .bind(email)
                    .fetch_one(&pool)
                    .await
                    .ok()?;
                    (sent == 1).then_some(())
                }
            })
            .await;
            assert!(
                delivered.is_some(),
                "{email}'s sign-up confirmation was not sent"
            );
            self.smtp.forget_to(email);
        }
        session
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
