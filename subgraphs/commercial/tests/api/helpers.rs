//! Core and commercial, running (the shared harness), and fixtures: users acting on them,
//! payments published as finance will.

use crm_events::{finance::PaymentReceived, EventSet};
use crm_test_support::{
    harness::{self, start, Harness},
    nats, GqlResponse, TestDatabase,
};
use serde_json::{json, Value};
use subgraph_kit::{directory::DirectoryEvent, events::Envelope, runtime::Running};
use uuid::Uuid;

pub use crm_test_support::Session;

pub struct TestApps {
    pub harness: Harness,
    pub db: TestDatabase,
    _commercial: Running,
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

/// Commercial on a stream of its own: core's events never reach it, so all it knows of core's
/// data it learns by reading through to core.
pub async fn spawn_apps_deaf_to_core() -> TestApps {
    spawn(false).await
}

async fn spawn(hearing_core: bool) -> TestApps {
    let mut harness = Harness::start().await;
    let db = TestDatabase::create(&subgraph_commercial::MIGRATOR).await;
    let mut service = harness.service(&db);
    if !hearing_core {
        service.events = nats::isolated_events(&harness.events.nats_url);
    }
    let settings = subgraph_commercial::config::Settings::for_tests(service, &harness.base_url);
    let commercial =
        start(subgraph_commercial::startup::build(settings, Some(db.pool.clone())).await);
    harness.set_target(commercial.url());
    TestApps {
        harness,
        db,
        _commercial: commercial,
    }
}

impl TestApps {
    /// A new user owning a new organisation, known to commercial.
    pub async fn sign_up(&self, email: &str, organisation: &str) -> Session {
        let session = self.harness.sign_up(email, organisation).await;
        self.wait_caught_up().await;
        session
    }

    /// Someone invited into `inviter`'s organisation with `role`.
    pub async fn join(&self, inviter: &Session, email: &str, role: &str) -> Session {
        let session = self.harness.join(inviter, email, role).await;
        self.wait_caught_up().await;
        session
    }

    /// Waits until commercial's directory has every event core recorded so far.
    pub async fn wait_caught_up(&self) {
        self.harness
            .wait_caught_up(&self.db.pool, "commercial-directory", DirectoryEvent::TYPES)
            .await;
    }

    /// Publishes an event on the test's stream, as its owner would.
    pub async fn publish(&self, event: &Envelope) {
        nats::publish(&self.events, event).await;
    }

    /// Waits until commercial has handled `event` (or dead-lettered it).
    pub async fn wait_handled(&self, event_id: Uuid) {
        harness::wait_handled(&self.db.pool, event_id).await;
    }

    /// Events commercial recorded of `event_type`, oldest first.
    pub async fn recorded(&self, event_type: &str) -> Vec<Value> {
        harness::recorded(&self.db.pool, event_type).await
    }

    pub async fn count(&self, table: &str) -> i64 {
        harness::count(&self.db.pool, table).await
    }
}

/// A `payment.received` envelope as finance will publish it.
pub fn payment_received(
    organisation_id: &str,
    payment_id: Uuid,
    contract_id: &str,
    amount: &str,
    received_on: &str,
) -> Envelope {
    let payment = PaymentReceived {
        payment_id,
        contract_id: Uuid::parse_str(contract_id).unwrap(),
        amount: amount.parse().unwrap(),
        amount_excl_vat: None,
        currency: "EUR".into(),
        received_on: received_on.parse().unwrap(),
    };
    Envelope::of(&payment, Uuid::parse_str(organisation_id).unwrap(), None).unwrap()
}

pub async fn create_client(session: &Session, name: &str) -> String {
    let response = session
        .core
        .run(
            "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
            json!({"input": {"kind": "COMPANY", "name": name}}),
        )
        .await;
    response.data()["createClient"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub const PRODUCT: &str = "id sku name unitPrice vatRate status category";

/// An ACTIVE product.
pub async fn active_product(session: &Session, sku: &str, price: &str, vat: &str) -> String {
    let created = session
        .run(
            "mutation($input: ProductInput!) { createProduct(input: $input) { id } }",
            json!({"input": {"sku": sku, "name": format!("Produit {sku}"), "unitPrice": price, "vatRate": vat, "category": "INSURANCE"}}),
        )
        .await;
    let id = created.data()["createProduct"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    session
        .run(
            "mutation($id: ID!) { changeProductStatus(id: $id, status: ACTIVE) { status } }",
            json!({"id": id}),
        )
        .await
        .data();
    id
}

pub const CONTRACT: &str = "id reference status totalExclVat totalVat totalInclVat signatureDate lines { id quantity unitPrice vatRate totalExclVat product { sku } }";

/// A DRAFT contract for `client_id` with one line of `quantity` × `product_id`.
pub async fn draft_contract(
    session: &Session,
    reference: &str,
    client_id: &str,
    product_id: &str,
    quantity: &str,
    sales_rep_id: Option<&str>,
) -> Value {
    let response = session
        .run(
            &format!("mutation($input: CreateContractInput!) {{ createContract(input: $input) {{ {CONTRACT} }} }}"),
            json!({"input": {
                "reference": reference, "title": "Contrat", "clientId": client_id,
                "salesRepId": sales_rep_id, "startDate": "2026-01-01",
                "billingFrequency": "MONTHLY",
                "lines": [{"productId": product_id, "quantity": quantity}],
            }}),
        )
        .await;
    response.data()["createContract"].clone()
}

pub async fn sign(session: &Session, contract_id: &str) -> GqlResponse {
    session
        .run(
            &format!("mutation($id: ID!) {{ signContract(id: $id, signatureDate: \"2026-01-15\") {{ {CONTRACT} }} }}"),
            json!({"id": contract_id}),
        )
        .await
}
