//! Core and finance, running; users acting on them; events published as other subgraphs will.

use std::time::Duration;

use async_nats::{header::HeaderMap, jetstream};
use serde_json::{json, Value};
use subgraph_kit::{
    db::DatabaseSettings,
    events::{ensure_stream, Envelope, EventsSettings},
    testing::{
        delete_stream_blocking, isolated_events, nats_url, wait_for, GqlResponse, GraphqlClient,
        TestDatabase,
    },
};
use tokio::sync::oneshot;
use uuid::Uuid;

pub struct TestApps {
    core_db: TestDatabase,
    pub db: TestDatabase,
    pub core_url: String,
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

/// A user signed in to an organisation.
#[derive(Clone)]
pub struct Session {
    pub core: GraphqlClient,
    pub finance: GraphqlClient,
    pub user_id: String,
    pub organisation_id: String,
}

impl Session {
    pub async fn run(&self, query: &str, variables: Value) -> GqlResponse {
        self.finance.run(query, variables).await
    }
}

pub const PASSWORD: &str = "a long enough password";

pub async fn spawn_apps() -> TestApps {
    let events = isolated_events(&nats_url());
    let core_db = TestDatabase::create(&subgraph_core::MIGRATOR).await;
    let key = subgraph_core::tokens::generate_signing_key_pem().unwrap();
    let core_settings = subgraph_core::config::Settings {
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
    let core = subgraph_core::startup::App::with_pool(core_settings, core_db.pool.clone())
        .await
        .unwrap();
    let core_base = format!("http://{}", core.local_addr().unwrap());
    let (core_stop, core_stopped) = oneshot::channel::<()>();
    tokio::spawn(core.run_until(async move {
        let _ = core_stopped.await;
    }));

    let db = TestDatabase::create(&subgraph_finance::MIGRATOR).await;
    // A port known in advance, so that pdfUrl names it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = subgraph_finance::config::Settings {
        http: subgraph_finance::config::HttpSettings {
            host: "127.0.0.1".into(),
            port,
        },
        documents: subgraph_finance::config::DocumentSettings {
            dir: std::env::temp_dir().join(format!("crm-finance-documents-{}", db.name)),
            public_url: format!("http://127.0.0.1:{port}"),
        },
        database: DatabaseSettings::new("postgres://unused"),
        auth: subgraph_finance::config::AuthSettings {
            jwks_url: format!("{core_base}/.well-known/jwks.json"),
            issuer: "crm-core".into(),
            audience: "crm".into(),
        },
        events: events.clone(),
    };
    let app = subgraph_finance::startup::App::with_pool(settings, db.pool.clone())
        .await
        .unwrap();
    let url = format!("http://{}/graphql", app.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestApps {
        core_db,
        db,
        core_url: format!("{core_base}/graphql"),
        url,
        events,
        stops: vec![core_stop, stop],
    }
}

impl TestApps {
    fn session(&self, payload: &Value) -> Session {
        let token = payload["token"].as_str().unwrap().to_owned();
        Session {
            core: GraphqlClient::new(&self.core_url).with_token(token.clone()),
            finance: GraphqlClient::new(&self.url).with_token(token),
            user_id: payload["user"]["id"].as_str().unwrap().to_owned(),
            organisation_id: payload["organisation"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// A new user owning a new organisation, known to finance.
    pub async fn sign_up(&self, email: &str, organisation: &str) -> Session {
        let response = GraphqlClient::new(&self.core_url)
            .run(
                "mutation($input: SignUpInput!) { signUp(input: $input) { token user { id } organisation { id } } }",
                json!({"input": {"email": email, "password": PASSWORD, "firstName": "A", "lastName": "B", "organisationName": organisation}}),
            )
            .await;
        let session = self.session(&response.data()["signUp"]);
        self.wait_caught_up().await;
        session
    }

    /// Someone invited into `inviter`'s organisation with `role`.
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
                "mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { token user { id } organisation { id } } }",
                json!({"input": {"token": token, "newAccount": {"password": PASSWORD, "firstName": "C", "lastName": "D"}}}),
            )
            .await;
        let session = self.session(&accepted.data()["acceptInvitation"]);
        self.wait_caught_up().await;
        session
    }

    /// Waits until finance's directory has every event core recorded so far.
    pub async fn wait_caught_up(&self) {
        let types = subgraph_finance::events::directory_consumer().event_types;
        let done = wait_for(Duration::from_secs(20), || async {
            let recorded: i64 =
                sqlx::query_scalar("select count(*) from outbox where event_type = any($1)")
                    .bind(&types)
                    .fetch_one(&self.core_db.pool)
                    .await
                    .ok()?;
            let processed: i64 = sqlx::query_scalar(
                "select count(*) from processed_events where consumer = 'finance-directory'",
            )
            .fetch_one(&self.db.pool)
            .await
            .ok()?;
            (processed >= recorded).then_some(())
        })
        .await;
        assert!(
            done.is_some(),
            "finance did not catch up with core's events"
        );
    }

    /// Publishes an event on the test's stream under a fresh message id (so that JetStream's
    /// dedupe window does not hide a repeat).
    pub async fn publish(&self, event: &Envelope) {
        let client = async_nats::connect(self.events.nats_url.as_str())
            .await
            .unwrap();
        let js = jetstream::new(client);
        ensure_stream(&js, &self.events).await.unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", Uuid::new_v4().to_string().as_str());
        js.publish_with_headers(
            self.events.subject(&event.event_type),
            headers,
            serde_json::to_vec(event).unwrap().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }

    /// Waits until the payments consumer has handled `event` (or dead-lettered it).
    pub async fn wait_handled(&self, event_id: Uuid) {
        let done = wait_for(Duration::from_secs(20), || async {
            let seen: bool = sqlx::query_scalar(
                "select exists(select 1 from processed_events where event_id = $1)
                     or exists(select 1 from dead_letters where event_id = $1)",
            )
            .bind(event_id)
            .fetch_one(&self.db.pool)
            .await
            .ok()?;
            seen.then_some(())
        })
        .await;
        assert!(done.is_some(), "the event {event_id} was not handled");
    }

    /// Events commercial recorded of `event_type`, oldest first.
    pub async fn recorded(&self, event_type: &str) -> Vec<Value> {
        sqlx::query_scalar(
            "select envelope from outbox where event_type = $1 order by created_at, id",
        )
        .bind(event_type)
        .fetch_all(&self.db.pool)
        .await
        .unwrap()
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }
}

/// A société in core with its invoice settings in finance; returns its id.
pub async fn societe_with_settings(
    apps: &TestApps,
    session: &Session,
    name: &str,
    siren: &str,
    vat: &str,
) -> String {
    let created = session
        .core
        .run(
            "mutation($input: SocieteInputObject!) { createSociete(input: $input) { id } }",
            json!({"input": {"name": name, "siren": siren}}),
        )
        .await;
    let id = created.data()["createSociete"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    apps.wait_caught_up().await;
    session
        .run(
            "mutation($id: ID!, $input: InvoiceSettingsInput!) { setInvoiceSettings(societeId: $id, input: $input) { siren } }",
            json!({"id": id, "input": {
                "legalName": name, "legalForm": "SAS", "shareCapital": "10000", "siren": siren,
                "vatNumber": vat, "rcs": format!("RCS Paris {siren}"), "addressLine1": "1 rue de la Paix",
                "postalCode": "75002", "city": "Paris", "iban": "FR7630006000011234567890189", "bic": "AGRIFRPP",
            }}),
        )
        .await
        .data();
    id
}

/// A company client in core, known to finance.
pub async fn company(apps: &TestApps, session: &Session, name: &str, siren: &str) -> String {
    let response = session
        .core
        .run(
            "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
            json!({"input": {"kind": "COMPANY", "name": name, "siren": siren}}),
        )
        .await;
    let id = response.data()["createClient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    apps.wait_caught_up().await;
    id
}

pub const INVOICE: &str = "id kind number pdfUrl status totalExclVat totalVat totalInclVat amountPaid amountDue issueDate dueDate documentSha256 chainSha256 facturxXml lines { description totalExclVat } vatBreakdown { category rate base tax }";

/// A draft for `client` from `societe` with two lines (20 % and 5.5 %), buyer address set.
pub async fn draft(session: &Session, societe: &str, client: &str) -> Value {
    let response = session
        .run(
            &format!("mutation($input: InvoiceInput!) {{ createInvoice(input: $input) {{ {INVOICE} }} }}"),
            json!({"input": draft_input(societe, client)}),
        )
        .await;
    response.data()["createInvoice"].clone()
}

pub fn draft_input(societe: &str, client: &str) -> Value {
    json!({
        "societeId": societe, "clientId": client,
        "buyerAddressLine1": "2 avenue Foch", "buyerPostalCode": "69006", "buyerCity": "Lyon",
        "lines": [
            {"productReference": "ASS-1", "description": "Assurance habitation", "quantity": "3", "unitPrice": "19.99", "discount": "5", "vatRate": "20"},
            {"description": "Livre", "quantity": "1.5", "unitPrice": "10", "vatRate": "5.5"},
        ],
    })
}

pub async fn issue(session: &Session, id: &str, date: &str) -> GqlResponse {
    session
        .run(
            &format!("mutation($id: ID!, $d: NaiveDate) {{ issueInvoice(id: $id, issueDate: $d) {{ {INVOICE} }} }}"),
            json!({"id": id, "d": date}),
        )
        .await
}

/// Downloads `url` as `session` (None: without a token): the status and the body.
pub async fn download(session: Option<&Session>, url: &str) -> (u16, Vec<u8>) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = session.and_then(|s| s.finance.token.clone()) {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}
