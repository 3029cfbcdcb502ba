//! The harness every API and end-to-end test starts from: core running in this process over a
//! fresh database, on a free port, with the test's own NATS subjects and stream — the token
//! issuer and the source of the directory events every other subgraph projects. Sessions are
//! users signed up or invited through core; `target` is where their operations go (the
//! subgraph under test, core itself by default).

use std::time::Duration;

use secrecy::SecretString;
use serde_json::{json, Value};
use sqlx::PgPool;
use subgraph_kit::{
    events::EventsSettings,
    runtime::{App, Running},
    sealed::OpeningKey,
    settings::{ServiceSettings, VerifySettings},
};
use uuid::Uuid;

use crate::{
    db::TestDatabase,
    graphql::{GqlResponse, GraphqlClient},
    nats::{delete_stream_blocking, isolated_events, nats_url},
    wait::wait_for,
};

/// The password of every test user.
pub const PASSWORD: &str = "a long enough password";

/// Core, running for one test.
pub struct Harness {
    /// The test's subjects and stream, which every subgraph of the test shares.
    pub events: EventsSettings,
    /// Core's signing key (tests mint special tokens with it).
    pub signing_key: SecretString,
    /// The mailer's key: core seals e-mailed secrets for it, engagement opens them.
    pub mail_key: OpeningKey,
    pub core_db: TestDatabase,
    /// `http://127.0.0.1:<port>` of core.
    pub base_url: String,
    target: String,
    core: Option<Running>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        drop(self.core.take());
        delete_stream_blocking(&self.events.nats_url, &self.events.stream);
    }
}

impl Harness {
    /// Core with one-hour tokens and the test's own events.
    pub async fn start() -> Self {
        Self::start_with(3600, isolated_events(&nats_url())).await
    }

    /// Core whose tokens live `ttl_seconds`, publishing as `events` says (tests of the event
    /// flow use a NATS server of their own).
    ///
    /// # Panics
    /// When PostgreSQL is unreachable or core does not start.
    pub async fn start_with(ttl_seconds: i64, events: EventsSettings) -> Self {
        let core_db = TestDatabase::create(&subgraph_core::MIGRATOR).await;
        let signing_key = subgraph_core::tokens::generate_signing_key_pem()
            .unwrap_or_else(|err| panic!("cannot generate a signing key: {err:#}"));
        let mail_key = OpeningKey::generate();
        let settings = subgraph_core::config::Settings::for_tests(
            &core_db.url,
            signing_key.clone(),
            SecretString::from(mail_key.sealing_key().to_pem()),
            ttl_seconds,
            events.clone(),
        );
        let core = start(subgraph_core::startup::build(settings, Some(core_db.pool.clone())).await);
        let base_url = core.base_url.clone();
        Self {
            events,
            signing_key,
            mail_key,
            core_db,
            target: format!("{base_url}/graphql"),
            base_url,
            core: Some(core),
        }
    }

    /// Core's GraphQL endpoint.
    pub fn url(&self) -> String {
        format!("{}/graphql", self.base_url)
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.base_url)
    }

    /// A client of core without a token.
    pub fn anonymous(&self) -> GraphqlClient {
        GraphqlClient::new(self.url())
    }

    /// Sends sessions' operations to `url` (the subgraph under test).
    pub fn set_target(&mut self, url: impl Into<String>) {
        self.target = url.into();
    }

    /// The common settings of another subgraph of this test over `db`: a free port, core's
    /// tokens, the test's events.
    pub fn service(&self, db: &TestDatabase) -> ServiceSettings {
        self.service_on(&db.url)
    }

    /// The common settings of a subgraph over the database at `database_url`, verifying
    /// core's tokens and publishing on the test's stream.
    pub fn service_on(&self, database_url: &str) -> ServiceSettings {
        ServiceSettings::local(
            0,
            database_url,
            VerifySettings::new(&self.jwks_url()),
            self.events.clone(),
        )
    }

    /// Signs up `email` as the owner of a new organisation named `organisation`, confirming
    /// with the link core asked the mailer to send.
    pub async fn sign_up(&self, email: &str, organisation: &str) -> Session {
        let asked = self
            .anonymous()
            .run(
                "mutation($input: SignUpInput!) { signUp(input: $input) { email } }",
                json!({"input": {"email": email, "password": PASSWORD, "firstName": "Alex", "lastName": "Owner", "organisationName": organisation}}),
            )
            .await;
        asked.data();
        let data = self.confirm_sign_up(email).await;
        assert_eq!(data["role"], "OWNER");
        self.session(&data)
    }

    /// Confirms `email`'s pending sign-up (its password [`PASSWORD`]) with the link core
    /// asked the mailer to send; the `confirmSignUp` payload.
    ///
    /// # Panics
    /// When no sign-up e-mail was asked for, or the confirmation fails.
    pub async fn confirm_sign_up(&self, email: &str) -> Value {
        let token = self.mailed(crate::mailbox::SIGN_UP, email).await;
        let confirmed = self
            .anonymous()
            .run(
                "mutation($token: String!, $password: String!) { confirmSignUp(token: $token, password: $password) { token refreshToken user { id } organisation { id } role } }",
                json!({"token": token, "password": PASSWORD}),
            )
            .await;
        confirmed.data()["confirmSignUp"].clone()
    }

    /// Invites `email` into `inviter`'s organisation with `role`; the invitation's token, as
    /// the invitee reads it in the e-mail.
    ///
    /// # Panics
    /// When the invitation is refused.
    pub async fn invite(&self, inviter: &Session, email: &str, role: &str) -> String {
        inviter
            .core
            .run(
                "mutation($input: InviteMemberInput!) { inviteMember(input: $input) { invitation { id status } } }",
                json!({"input": {"email": email, "role": role}}),
            )
            .await
            .data();
        self.mailed(crate::mailbox::INVITATION, email).await
    }

    /// Where the test's people read their e-mail (core's database, the mailer's key).
    pub fn mailbox(&self) -> crate::mailbox::Mailbox<'_> {
        crate::mailbox::Mailbox {
            core: &self.core_db.pool,
            key: &self.mail_key,
        }
    }

    /// The secret of the newest `event_type` e-mail core asked the mailer to send `email`.
    ///
    /// # Panics
    /// When there is none.
    pub async fn mailed(&self, event_type: &str, email: &str) -> String {
        self.mailbox()
            .secret(event_type, email)
            .await
            .unwrap_or_else(|err| panic!("{err:#}"))
    }

    /// Invites `email` into `inviter`'s organisation with `role` and accepts as a new account.
    pub async fn join(&self, inviter: &Session, email: &str, role: &str) -> Session {
        let token = self.invite(inviter, email, role).await;
        let accepted = self
            .anonymous()
            .run(
                "mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { token refreshToken user { id } organisation { id } role } }",
                json!({"input": {"token": token, "newAccount": {"password": PASSWORD, "firstName": "Sam", "lastName": "Member"}}}),
            )
            .await;
        let data = &accepted.data()["acceptInvitation"];
        assert_eq!(data["role"], role);
        self.session(data)
    }

    /// A session from a payload carrying `token`, `user { id }` and `organisation { id }`.
    ///
    /// # Panics
    /// When the payload has no token or user.
    pub fn session(&self, payload: &Value) -> Session {
        let token = payload["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {payload}"))
            .to_owned();
        Session {
            core: self.anonymous().with_token(token.clone()),
            client: GraphqlClient::new(&self.target).with_token(token.clone()),
            token,
            refresh_token: payload["refreshToken"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            user_id: payload["user"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            organisation_id: payload["organisation"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// Rows of a core table.
    pub async fn count(&self, table: &str) -> i64 {
        count(&self.core_db.pool, table).await
    }

    /// Waits until the consumer `consumer` (of `event_types`) over `pool` has processed every
    /// event of those types core recorded so far.
    ///
    /// # Panics
    /// When it has not within 20 s.
    pub async fn wait_caught_up(&self, pool: &PgPool, consumer: &str, event_types: &[&str]) {
        let done = wait_for(Duration::from_secs(20), || async {
            let recorded: i64 =
                sqlx::query_scalar("select count(*) from outbox where event_type = any($1)")
                    .bind(event_types)
                    .fetch_one(&self.core_db.pool)
                    .await
                    .ok()?;
            let processed: i64 = sqlx::query_scalar(
                "select count(*) from processed_events where consumer = $1 and event_type = any($2)",
            )
            .bind(consumer)
            .bind(event_types)
            .fetch_one(pool)
            .await
            .ok()?;
            (processed >= recorded).then_some(())
        })
        .await;
        assert!(
            done.is_some(),
            "{consumer} did not catch up with core's events"
        );
    }
}

/// A user signed in to an organisation.
#[derive(Debug, Clone)]
pub struct Session {
    /// Core, acting as the user.
    pub core: GraphqlClient,
    /// The harness's target (the subgraph under test), acting as the user.
    pub client: GraphqlClient,
    pub token: String,
    /// The session's refresh token (empty when the payload had none).
    pub refresh_token: String,
    pub user_id: String,
    pub organisation_id: String,
}

impl Session {
    /// Runs `query` on the target as the user.
    pub async fn run(&self, query: &str, variables: Value) -> GqlResponse {
        self.client.run(query, variables).await
    }

    /// The user's organisation id.
    ///
    /// # Panics
    /// When the session has no organisation.
    pub fn organisation(&self) -> Uuid {
        Uuid::parse_str(&self.organisation_id)
            .unwrap_or_else(|_| panic!("the session has no organisation"))
    }
}

/// Starts a built subgraph in this process.
///
/// # Panics
/// When it did not build.
pub fn start(app: anyhow::Result<App>) -> Running {
    app.and_then(|app| Ok(app.spawn()?))
        .unwrap_or_else(|err| panic!("the subgraph did not start: {err:#}"))
}

/// Rows of `table` (a trusted name) in `pool`.
///
/// # Panics
/// When the table does not exist.
pub async fn count(pool: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(pool)
        .await
        .unwrap_or_else(|err| panic!("cannot count {table}: {err}"))
}

/// Waits until the event `event_id` was handled (processed or dead-lettered) in `pool`.
///
/// # Panics
/// When it was not within 20 s.
pub async fn wait_handled(pool: &PgPool, event_id: Uuid) {
    let done = wait_for(Duration::from_secs(20), || async {
        let seen: bool = sqlx::query_scalar(
            "select exists(select 1 from processed_events where event_id = $1)
                 or exists(select 1 from dead_letters where event_id = $1)",
        )
        .bind(event_id)
        .fetch_one(pool)
        .await
        .ok()?;
        seen.then_some(())
    })
    .await;
    assert!(done.is_some(), "the event {event_id} was not handled");
}

/// Events recorded of `event_type` in `pool`'s outbox, oldest first.
///
/// # Panics
/// When the outbox cannot be read.
pub async fn recorded(pool: &PgPool, event_type: &str) -> Vec<Value> {
    sqlx::query_scalar("select envelope from outbox where event_type = $1 order by created_at, id")
        .bind(event_type)
        .fetch_all(pool)
        .await
        .unwrap_or_else(|err| panic!("cannot read the outbox: {err}"))
}

/// Core and one subgraph under test, over its own database: what a subgraph's API tests use.
/// `directory` names the subgraph's consumer of core's events (and their types), which
/// sign-ups and joins wait for when `wait_after_sign_up` is set.
pub struct SubgraphApps {
    pub harness: Harness,
    pub db: TestDatabase,
    /// The subgraph's GraphQL endpoint (empty when the test runs the subgraph itself).
    pub url: String,
    directory: (&'static str, &'static [&'static str]),
    wait_after_sign_up: bool,
    _subgraph: Option<Running>,
}

impl std::ops::Deref for SubgraphApps {
    type Target = Harness;

    fn deref(&self) -> &Harness {
        &self.harness
    }
}

impl SubgraphApps {
    /// The subgraph `built` over `db` (`None`: the test runs it itself), sessions' operations
    /// going to it.
    pub fn new(
        mut harness: Harness,
        db: TestDatabase,
        built: Option<anyhow::Result<App>>,
        directory: (&'static str, &'static [&'static str]),
        wait_after_sign_up: bool,
    ) -> Self {
        let subgraph = built.map(start);
        let url = subgraph.as_ref().map(Running::url).unwrap_or_default();
        if !url.is_empty() {
            harness.set_target(&url);
        }
        Self {
            harness,
            db,
            url,
            directory,
            wait_after_sign_up,
            _subgraph: subgraph,
        }
    }

    /// A new user owning a new organisation.
    pub async fn sign_up(&self, email: &str, organisation: &str) -> Session {
        let session = self.harness.sign_up(email, organisation).await;
        if self.wait_after_sign_up {
            self.wait_caught_up().await;
        }
        session
    }

    /// Someone invited into `inviter`'s organisation with `role`.
    pub async fn join(&self, inviter: &Session, email: &str, role: &str) -> Session {
        let session = self.harness.join(inviter, email, role).await;
        if self.wait_after_sign_up {
            self.wait_caught_up().await;
        }
        session
    }

    /// Waits until the subgraph's consumer of core's events has every event core recorded.
    pub async fn wait_caught_up(&self) {
        let (consumer, types) = self.directory;
        self.harness
            .wait_caught_up(&self.db.pool, consumer, types)
            .await;
    }

    /// Publishes an event on the test's stream, as its owner would.
    pub async fn publish(&self, event: &subgraph_kit::events::Envelope) {
        crate::nats::publish(&self.events, event).await;
    }

    /// Waits until the subgraph has handled `event_id` (or dead-lettered it).
    pub async fn wait_handled(&self, event_id: Uuid) {
        wait_handled(&self.db.pool, event_id).await;
    }

    /// Events the subgraph recorded of `event_type`, oldest first.
    pub async fn recorded(&self, event_type: &str) -> Vec<Value> {
        recorded(&self.db.pool, event_type).await
    }

    /// Rows of a table of the subgraph.
    pub async fn count(&self, table: &str) -> i64 {
        count(&self.db.pool, table).await
    }

    /// The subgraph's `/metrics` page.
    pub async fn metrics(&self) -> String {
        metrics(self.url.trim_end_matches("/graphql")).await
    }
}

/// Runs an operator's `events …` command (`["dead-letters", "list"]`) on a subgraph's
/// database and returns what it prints.
///
/// # Panics
/// When the arguments are not a command or the database fails.
pub async fn operate(pool: &PgPool, args: &[&str]) -> String {
    let command = subgraph_kit::operations::parse(args).unwrap_or_else(|e| panic!("{e}"));
    subgraph_kit::operations::run(pool, &command)
        .await
        .unwrap_or_else(|e| panic!("events {args:?}: {e:#}"))
}

/// The `/metrics` page of the subgraph at `base_url`.
///
/// # Panics
/// When the subgraph does not answer it with 200.
pub async fn metrics(base_url: &str) -> String {
    let response = reqwest::get(format!("{base_url}/metrics"))
        .await
        .unwrap_or_else(|e| panic!("GET /metrics: {e}"));
    assert_eq!(response.status(), 200, "GET /metrics");
    response
        .text()
        .await
        .unwrap_or_else(|e| panic!("GET /metrics body: {e}"))
}
