//! The end-to-end harness: the shared test harness's core, the other subgraphs in-process
//! over fresh databases, and the gateway binary over a supergraph, each on a free port; the
//! bus is a NATS server of the stack's own configured as a deployment's (the generated
//! `nats.conf`: every service as its own user, with its permissions). Everything stops when
//! the `Stack` drops.

use std::{collections::HashMap, path::PathBuf};

use crm_test_support::{
    harness::{start, Harness},
    maileva::FakeMaileva,
    nats::NatsServer,
    GraphqlClient, TestDatabase,
};
use secrecy::SecretString;
use serde_json::{json, Value};
use subgraph_kit::runtime::Running;
use uuid::Uuid;

use crate::{
    catalogue::{nats_config, repo_root, SUBGRAPHS, SUPERGRAPH_PATH},
    gateway::{start_gateway, GatewayProcess},
};

pub use crm_test_support::PASSWORD;

/// The stack's internal token: logistics fetches issued invoices' PDFs from finance with it.
pub const INTERNAL_TOKEN: &str = "e2e-internal-token-0123456789abcdef0123456789";

pub struct Stack {
    pub engagement: Running,
    pub engagement_db: TestDatabase,
    pub commercial: Running,
    pub commercial_db: TestDatabase,
    pub finance: Running,
    pub finance_db: TestDatabase,
    pub logistics: Running,
    pub logistics_db: TestDatabase,
    /// The Maileva logistics posts through.
    pub maileva: FakeMaileva,
    pub gateway: GatewayProcess,
    /// Core, its database, the test's events and core's signing key.
    pub core: Harness,
    /// Extra subgraphs' URLs by name (tests that add their own).
    pub extra_urls: HashMap<String, String>,
    /// The stack's NATS server (stopped last).
    pub nats: NatsServer,
}

impl std::ops::Deref for Stack {
    type Target = Harness;

    fn deref(&self) -> &Harness {
        &self.core
    }
}

/// A WebSocket to the gateway speaking graphql-transport-ws, before its `connection_init`.
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Stack {
    /// Opens a graphql-transport-ws WebSocket to the gateway (nothing sent yet).
    ///
    /// # Errors
    /// When the gateway refuses the upgrade.
    pub async fn websocket(&self) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request =
            format!("ws://127.0.0.1:{}/graphql", self.gateway.port).into_client_request()?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            tokio_tungstenite::tungstenite::http::HeaderValue::from_static("graphql-transport-ws"),
        );
        Ok(tokio_tungstenite::connect_async(request).await?.0)
    }

    /// The committed supergraph over fresh subgraphs.
    pub async fn start() -> Self {
        Self::start_with(&repo_root().join(SUPERGRAPH_PATH), HashMap::new()).await
    }

    /// `supergraph` over fresh subgraphs plus `extra_urls` (subgraph name → GraphQL URL).
    ///
    /// # Panics
    /// When a subgraph or the gateway does not start.
    pub async fn start_with(
        supergraph: &std::path::Path,
        extra_urls: HashMap<String, String>,
    ) -> Self {
        // Development mail catchers (Mailpit, MailHog) listen on 1025.
        Self::start_full(supergraph, extra_urls, 1025).await
    }

    /// The committed supergraph over fresh subgraphs, engagement sending e-mail to the SMTP
    /// server on this machine's `smtp_port`.
    pub async fn start_with_smtp(smtp_port: u16) -> Self {
        Self::start_full(
            &repo_root().join(SUPERGRAPH_PATH),
            HashMap::new(),
            smtp_port,
        )
        .await
    }

    async fn start_full(
        supergraph: &std::path::Path,
        extra_urls: HashMap<String, String>,
        smtp_port: u16,
    ) -> Self {
        let services: Vec<&str> = SUBGRAPHS.iter().map(|s| s.bus.service).collect();
        let nats = NatsServer::secured(&nats_config(), &services).await;
        let core = Harness::start_with(3600, nats.events_for("core")).await;
        let service = |db: &TestDatabase, name: &str| {
            let mut service = core.service(db);
            service.events = nats.events_for(name);
            service
        };
        let engagement_db = TestDatabase::create(&subgraph_engagement::MIGRATOR).await;
        let settings = subgraph_engagement::config::Settings::for_tests(
            service(&engagement_db, "engagement"),
            &core.base_url,
            smtp_port,
            core.mail_key.to_pem(),
        );
        let engagement = start(
            subgraph_engagement::startup::build(settings, Some(engagement_db.pool.clone())).await,
        );
        let commercial_db = TestDatabase::create(&subgraph_commercial::MIGRATOR).await;
        let settings = subgraph_commercial::config::Settings::for_tests(
            service(&commercial_db, "commercial"),
            &core.base_url,
        );
        let commercial = start(
            subgraph_commercial::startup::build(settings, Some(commercial_db.pool.clone())).await,
        );
        let finance_db = TestDatabase::create(&subgraph_finance::MIGRATOR).await;
        let mut settings = subgraph_finance::config::Settings::for_tests(
            service(&finance_db, "finance"),
            &core.base_url,
            std::env::temp_dir().join(format!("crm-finance-documents-{}", finance_db.name)),
        );
        settings.documents.internal_token = Some(SecretString::from(INTERNAL_TOKEN));
        let finance =
            start(subgraph_finance::startup::build(settings, Some(finance_db.pool.clone())).await);
        let maileva = FakeMaileva::start().await;
        let logistics_db = TestDatabase::create(&subgraph_logistics::MIGRATOR).await;
        let mut settings = subgraph_logistics::config::Settings::for_tests(
            service(&logistics_db, "logistics"),
            &core.base_url,
            &finance.base_url,
            &maileva.url,
            std::env::temp_dir().join(format!("crm-logistics-documents-{}", logistics_db.name)),
        );
        settings.finance.internal_token = Some(SecretString::from(INTERNAL_TOKEN));
        let logistics = start(
            subgraph_logistics::startup::build(settings, Some(logistics_db.pool.clone())).await,
        );
        let mut urls = extra_urls.clone();
        urls.insert("commercial".into(), commercial.url());
        urls.insert("finance".into(), finance.url());
        urls.insert("core".into(), core.url());
        urls.insert("engagement".into(), engagement.url());
        urls.insert("logistics".into(), logistics.url());
        let log = log_path();
        let gateway = start_gateway(supergraph, &urls, &core.jwks_url(), 0, Some(&log))
            .await
            .unwrap_or_else(|err| {
                let output = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("the gateway did not start: {err:#}\n--- gateway log ---\n{output}")
            });
        Self {
            engagement,
            engagement_db,
            commercial,
            commercial_db,
            finance,
            finance_db,
            logistics,
            logistics_db,
            maileva,
            gateway,
            core,
            extra_urls,
            nats,
        }
    }

    /// A client of the gateway, without a token.
    pub fn client(&self) -> GraphqlClient {
        GraphqlClient::new(self.gateway.url())
    }

    /// Signs up through the gateway, confirming with the link core asked the mailer to send;
    /// returns a client acting as the new owner, and the `confirmSignUp` payload.
    pub async fn sign_up(&self, email: &str, organisation: &str) -> (GraphqlClient, Value) {
        self.client()
            .run(
                "mutation($input: SignUpInput!) { signUp(input: $input) { email } }",
                json!({"input": {"email": email, "password": PASSWORD, "firstName": "Ada", "lastName": "Owner", "organisationName": organisation}}),
            )
            .await
            .data();
        let token = self.mailed(crm_test_support::mailbox::SIGN_UP, email).await;
        let response = self
            .client()
            .run(
                "mutation($token: String!, $password: String!) { confirmSignUp(token: $token, password: $password) { token user { id } organisation { id name } role } }",
                json!({"token": token, "password": PASSWORD}),
            )
            .await;
        let payload = response.data()["confirmSignUp"].clone();
        let token = payload["token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {payload}"))
            .to_owned();
        (self.client().with_token(token), payload)
    }

    /// Publishes a `probe` notification on a user's live subject, as engagement does for a
    /// real one: subscribers use probes to know their subscription is established.
    ///
    /// # Panics
    /// When NATS is unreachable.
    pub async fn publish_notification_probe(&self, organisation_id: Uuid, user_id: Uuid) {
        let nats = self.nats.client_as("engagement").await;
        let subject = self
            .events
            .live_subject(organisation_id, user_id, "notifications");
        let probe = json!({
            "id": Uuid::new_v4(), "organisation_id": organisation_id, "user_id": user_id,
            "kind": "SYSTEM", "title": PROBE_TITLE, "message": "probe", "link": null,
            "metadata": {}, "source_event_id": null, "read_at": null,
            "created_at": "2026-01-01T00:00:00Z"
        });
        nats.publish(subject, probe.to_string().into())
            .await
            .unwrap_or_else(|err| panic!("NATS: {err}"));
        nats.flush()
            .await
            .unwrap_or_else(|err| panic!("NATS: {err}"));
    }
}

/// The title of [`Stack::publish_notification_probe`]'s notifications.
pub const PROBE_TITLE: &str = "probe";

fn log_path() -> PathBuf {
    std::env::temp_dir().join(format!("crm-gateway-{}.log", uuid::Uuid::new_v4().simple()))
}

/// What invoicing needs in `owner`'s organisation, created through the gateway: a société
/// ("Acme SAS") whose invoice settings finance accepted (once it heard of the société), and an
/// active product at 19.99 excl. 20 % VAT. Their ids: (société, product).
///
/// # Panics
/// When the gateway refuses one of them, or finance never hears of the société.
pub async fn invoicing_setup(owner: &GraphqlClient) -> (String, String) {
    let id = |response: &crm_test_support::GqlResponse, field: &str| {
        response.data()[field]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no {field} id: {}", response.body))
            .to_owned()
    };
    let societe = owner
        .run(
            "mutation { createSociete(input: {name: \"Acme SAS\", siren: \"732829320\"}) { id } }",
            json!({}),
        )
        .await;
    let societe = id(&societe, "createSociete");
    let settings = json!({"id": societe, "input": {
        "legalName": "Acme SAS", "legalForm": "SAS", "shareCapital": "10000", "siren": "732829320",
        "vatNumber": "FR44732829320", "rcs": "RCS Paris 732 829 320", "addressLine1": "1 rue de la Paix",
        "postalCode": "75002", "city": "Paris"}});
    // Finance learns of the société from core's events.
    let known = crm_test_support::wait_for(std::time::Duration::from_secs(20), || async {
        let r = owner
            .run("mutation($id: ID!, $input: InvoiceSettingsInput!) { setInvoiceSettings(societeId: $id, input: $input) { siren } }", settings.clone())
            .await;
        r.errors().is_empty().then_some(())
    })
    .await;
    assert!(known.is_some(), "finance never knew the société");
    let product = owner
        .run("mutation { createProduct(input: {sku: \"ASS-1\", name: \"Assurance\", unitPrice: \"19.99\", vatRate: \"20\"}) { id } }", json!({}))
        .await;
    let product = id(&product, "createProduct");
    owner
        .run(
            "mutation($id: ID!) { changeProductStatus(id: $id, status: ACTIVE) { status } }",
            json!({"id": product}),
        )
        .await
        .data();
    (societe, product)
}

/// A company client, "Dupont SA", created in core through the gateway; its id.
///
/// # Panics
/// When core refuses it.
pub async fn company_client(owner: &GraphqlClient) -> String {
    let created = owner
        .run("mutation { createClient(input: {kind: COMPANY, name: \"Dupont SA\", siren: \"552100554\"}) { id } }", json!({}))
        .await;
    created.data()["createClient"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no client id: {}", created.body))
        .to_owned()
}

/// Contract "CTR-1" (two of `product`, monthly from 2026-01-01) for `client` of `societe`,
/// created once commercial knows the client, then signed on 2026-01-10; its id.
///
/// # Panics
/// When commercial never knows the client, or refuses the contract or its signature.
pub async fn signed_contract(
    owner: &GraphqlClient,
    client: &str,
    societe: &str,
    product: &str,
) -> String {
    let input = json!({"input": {"reference": "CTR-1", "title": "Habitation", "clientId": client, "societeId": societe,
        "startDate": "2026-01-01", "billingFrequency": "MONTHLY", "lines": [{"productId": product, "quantity": "2"}]}});
    let contract = crm_test_support::wait_for(std::time::Duration::from_secs(20), || async {
        let r = owner
            .run(
                "mutation($input: CreateContractInput!) { createContract(input: $input) { id } }",
                input.clone(),
            )
            .await;
        r.errors().is_empty().then(|| {
            r.data()["createContract"]["id"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_default()
        })
    })
    .await
    .unwrap_or_else(|| panic!("commercial never knew the client"));
    owner
        .run("mutation($id: ID!) { signContract(id: $id, signatureDate: \"2026-01-10\") { status } }", json!({"id": contract}))
        .await
        .data();
    contract
}
