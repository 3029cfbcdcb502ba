//! Spawning the app and acting as users of it.

use secrecy::SecretString;
use serde_json::{json, Value};
use subgraph_core::{config::*, startup::App, tokens::generate_signing_key_pem};
use subgraph_kit::{
    db::DatabaseSettings,
    testing::{isolated_events, nats_url, GqlResponse, GraphqlClient, TestDatabase},
};
use tokio::sync::oneshot;

pub struct TestApp {
    pub db: TestDatabase,
    pub events: subgraph_kit::events::EventsSettings,
    pub base_url: String,
    pub signing_key: SecretString,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        subgraph_kit::testing::delete_stream_blocking(&self.events.nats_url, &self.events.stream);
    }
}

/// A signed-in user acting in an organisation.
#[derive(Clone)]
pub struct Session {
    pub client: GraphqlClient,
    pub token: String,
    pub user_id: String,
    pub organisation_id: String,
}

impl Session {
    pub async fn run(&self, query: &str, variables: Value) -> GqlResponse {
        self.client.run(query, variables).await
    }
}

pub fn settings_with_events(
    signing_key: SecretString,
    ttl_seconds: i64,
    events: subgraph_kit::events::EventsSettings,
) -> Settings {
    Settings {
        http: HttpSettings {
            host: "127.0.0.1".into(),
            port: 0,
        },
        database: DatabaseSettings::new("postgres://unused"),
        auth: AuthSettings {
            issuer: "crm-core".into(),
            audience: "crm".into(),
            token_ttl_seconds: ttl_seconds,
            signing_key_pem: Some(signing_key),
            signing_key_file: None,
            invitation_ttl_days: 7,
        },
        events,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with_ttl(3600).await
}

pub async fn spawn_app_with_ttl(ttl_seconds: i64) -> TestApp {
    spawn_app_with(ttl_seconds, isolated_events(&nats_url())).await
}

/// The app publishing its events as `events` says (tests of the event flow use their own
/// NATS server).
pub async fn spawn_app_with(
    ttl_seconds: i64,
    events: subgraph_kit::events::EventsSettings,
) -> TestApp {
    let db = TestDatabase::create(&subgraph_core::MIGRATOR).await;
    let signing_key = generate_signing_key_pem().expect("key generation");
    let app = App::with_pool(
        settings_with_events(signing_key.clone(), ttl_seconds, events.clone()),
        db.pool.clone(),
    )
    .await
    .expect("the app builds");
    let base_url = format!("http://{}", app.local_addr().expect("bound"));
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        db,
        events,
        base_url,
        signing_key,
        shutdown: Some(tx),
    }
}

pub const PASSWORD: &str = "a long enough password";

impl TestApp {
    pub fn url(&self) -> String {
        format!("{}/graphql", self.base_url)
    }

    pub fn anonymous(&self) -> GraphqlClient {
        GraphqlClient::new(self.url())
    }

    /// Signs up `email` as the owner of a new organisation named `organisation`.
    pub async fn sign_up(&self, email: &str, organisation: &str) -> Session {
        let response = self
            .anonymous()
            .run(
                "mutation($input: SignUpInput!) { signUp(input: $input) { token user { id } organisation { id } role } }",
                json!({"input": {"email": email, "password": PASSWORD, "firstName": "Alex", "lastName": "Owner", "organisationName": organisation}}),
            )
            .await;
        let data = &response.data()["signUp"];
        assert_eq!(data["role"], "OWNER");
        self.session(data)
    }

    fn session(&self, payload: &Value) -> Session {
        let token = payload["token"].as_str().expect("token").to_owned();
        Session {
            client: self.anonymous().with_token(token.clone()),
            token,
            user_id: payload["user"]["id"].as_str().expect("user id").to_owned(),
            organisation_id: payload["organisation"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// Invites `email` into `inviter`'s organisation with `role` and accepts as a new account.
    pub async fn join(&self, inviter: &Session, email: &str, role: &str) -> Session {
        let token = invite(inviter, email, role).await;
        let accepted = self
            .anonymous()
            .run(
                "mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { token user { id } organisation { id } role } }",
                json!({"input": {"token": token, "newAccount": {"password": PASSWORD, "firstName": "Sam", "lastName": "Member"}}}),
            )
            .await;
        let data = &accepted.data()["acceptInvitation"];
        assert_eq!(data["role"], role);
        self.session(data)
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(&self.db.pool)
            .await
            .expect("count")
    }
}

/// Invites `email` with `role`; returns the invitation token.
pub async fn invite(inviter: &Session, email: &str, role: &str) -> String {
    let response = inviter
        .run(
            "mutation($input: InviteMemberInput!) { inviteMember(input: $input) { token invitation { id status } } }",
            json!({"input": {"email": email, "role": role}}),
        )
        .await;
    response.data()["inviteMember"]["token"]
        .as_str()
        .expect("token")
        .to_owned()
}

pub const CREATE_CLIENT: &str = "mutation($input: CreateClientInput!) {
    createClient(input: $input) {
        id kind status name firstName displayName email phone siren vatNumber paymentTermsDays
        addresses { id kind line1 postalCode city country isDefault }
    }
}";

/// A valid person input; `name` and `phone` vary per test.
pub fn person(name: &str, phone: &str) -> Value {
    json!({"kind": "PERSON", "name": name, "firstName": "Jeanne", "email": format!("{}@example.fr", name.to_lowercase()), "phone": phone})
}

pub async fn create_client(session: &Session, input: Value) -> Value {
    let response = session.run(CREATE_CLIENT, json!({"input": input})).await;
    response.data()["createClient"].clone()
}
