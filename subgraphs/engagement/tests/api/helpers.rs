//! Core and engagement, running; users acting on them.

use std::time::Duration;

use serde_json::{json, Value};
use subgraph_kit::{
    db::DatabaseSettings,
    events::EventsSettings,
    testing::{
        delete_stream_blocking, isolated_events, nats_url, wait_for, GqlResponse, GraphqlClient,
        TestDatabase,
    },
};
use tokio::sync::oneshot;

pub struct TestApps {
    pub smtp: subgraph_kit::testing::SmtpSink,
    /// Core's database: its outbox tells what engagement has to catch up with.
    core_db: TestDatabase,
    pub db: TestDatabase,
    pub core_url: String,
    pub jwks_url: String,
    /// Engagement's GraphQL endpoint (empty when the test runs engagement itself).
    pub url: String,
    pub events: EventsSettings,
    stops: Vec<oneshot::Sender<()>>,
}

impl Drop for TestApps {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
        delete_stream_blocking(&self.events.nats_url, &self.events.stream);
    }
}

#[derive(Clone)]
pub struct Session {
    pub core: GraphqlClient,
    pub engagement: GraphqlClient,
    pub user_id: String,
}

impl Session {
    pub async fn run(&self, query: &str, variables: Value) -> GqlResponse {
        self.engagement.run(query, variables).await
    }
}

pub const PASSWORD: &str = "a long enough password";

pub async fn spawn_apps() -> TestApps {
    spawn(true).await
}

/// Core in this process, engagement's database and SMTP sink ready, but no engagement: the
/// test runs it (as a child process, say).
pub async fn spawn_core_only() -> TestApps {
    spawn(false).await
}

async fn spawn(with_engagement: bool) -> TestApps {
    let events = isolated_events(&nats_url());
    let core_db = TestDatabase::create(&subgraph_core::MIGRATOR).await;
    let key = subgraph_core::tokens::generate_signing_key_pem().unwrap();
    let mut core_settings = subgraph_core::config::Settings {
        http: subgraph_core::config::HttpSettings {
            host: "127.0.0.1".into(),
            port: 0,
        },
        database: DatabaseSettings::new("postgres://unused"),
        auth: subgraph_core::config::AuthSettings {
            issuer: "crm-core".into(),
            audience: "crm".into(),
            token_ttl_seconds: 3600,
            signing_key_pem: Some(key),
            signing_key_file: None,
            invitation_ttl_days: 7,
        },
        events: events.clone(),
    };
    core_settings.http.port = 0;
    let core = subgraph_core::startup::App::with_pool(core_settings, core_db.pool.clone())
        .await
        .unwrap();
    let core_base = format!("http://{}", core.local_addr().unwrap());
    let (core_stop, core_stopped) = oneshot::channel::<()>();
    tokio::spawn(core.run_until(async move {
        let _ = core_stopped.await;
    }));

    let db = TestDatabase::create(&subgraph_engagement::MIGRATOR).await;
    let smtp = subgraph_kit::testing::SmtpSink::start().await;
    let settings = subgraph_engagement::config::Settings {
        http: subgraph_engagement::config::HttpSettings {
            host: "127.0.0.1".into(),
            port: 0,
        },
        database: DatabaseSettings::new("postgres://unused"),
        auth: subgraph_engagement::config::AuthSettings {
            jwks_url: format!("{core_base}/.well-known/jwks.json"),
            issuer: "crm-core".into(),
            audience: "crm".into(),
        },
        events: events.clone(),
        email: subgraph_engagement::config::EmailSettings::local(smtp.port, 0),
    };
    let mut stops = vec![core_stop];
    let mut url = String::new();
    if with_engagement {
        let app = subgraph_engagement::startup::App::with_pool(settings, db.pool.clone())
            .await
            .unwrap();
        url = format!("http://{}/graphql", app.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        stops.push(stop);
    }
    TestApps {
        smtp,
        core_db,
        db,
        core_url: format!("{core_base}/graphql"),
        jwks_url: format!("{core_base}/.well-known/jwks.json"),
        url,
        events,
        stops,
    }
}

impl TestApps {
    fn session(&self, payload: &Value) -> Session {
        let token = payload["token"].as_str().unwrap().to_owned();
        Session {
            core: GraphqlClient::new(&self.core_url).with_token(token.clone()),
            engagement: GraphqlClient::new(&self.url).with_token(token),
            user_id: payload["user"]["id"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn sign_up(&self, email: &str, organisation: &str) -> Session {
        let response = GraphqlClient::new(&self.core_url)
            .run(
                "mutation($input: SignUpInput!) { signUp(input: $input) { token user { id } } }",
                json!({"input": {"email": email, "password": PASSWORD, "firstName": "A", "lastName": "B", "organisationName": organisation}}),
            )
            .await;
        self.session(&response.data()["signUp"])
    }

    pub async fn join(&self, inviter: &Session, email: &str, role: &str) -> Session {
        let invited = inviter
            .core
            .run(
                "mutation($input: InviteMemberInput!) { inviteMember(input: $input) { token } }",
                json!({"input": {"email": email, "role": role}}),
            )
            .await;
        let token = invited.data()["inviteMember"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let accepted = GraphqlClient::new(&self.core_url)
            .run(
                "mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { token user { id } } }",
                json!({"input": {"token": token, "newAccount": {"password": PASSWORD, "firstName": "C", "lastName": "D"}}}),
            )
            .await;
        self.session(&accepted.data()["acceptInvitation"])
    }

    /// Waits until engagement has processed every event core recorded so far that its
    /// consumer listens to.
    pub async fn wait_caught_up(&self) {
        let types = subgraph_engagement::events::notifications_consumer().event_types;
        let done = wait_for(Duration::from_secs(20), || async {
            let recorded: i64 =
                sqlx::query_scalar("select count(*) from outbox where event_type = any($1)")
                    .bind(&types)
                    .fetch_one(&self.core_db.pool)
                    .await
                    .ok()?;
            let processed: i64 = sqlx::query_scalar("select count(*) from processed_events")
                .fetch_one(&self.db.pool)
                .await
                .ok()?;
            (processed >= recorded).then_some(())
        })
        .await;
        assert!(
            done.is_some(),
            "engagement did not catch up with core's events"
        );
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
