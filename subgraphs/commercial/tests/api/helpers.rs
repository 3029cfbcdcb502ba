//! Core and commercial, running (the shared harness), and fixtures: users acting on them,
//! payments published as finance will.

use crm_events::{finance::PaymentReceived, EventSet};
use crm_test_support::{
    harness::{Harness, SubgraphApps},
    nats, GqlResponse, TestDatabase,
};
use serde_json::{json, Value};
use subgraph_kit::{directory::DirectoryEvent, events::Envelope};
use uuid::Uuid;

pub use crm_test_support::Session;

pub type TestApps = SubgraphApps;

pub async fn spawn_apps() -> TestApps {
    spawn(true).await
}

/// Commercial on a stream of its own: core's events never reach it, so all it knows of core's
/// data it learns by reading through to core.
pub async fn spawn_apps_deaf_to_core() -> TestApps {
    spawn(false).await
}

async fn spawn(hearing_core: bool) -> TestApps {
    let harness = Harness::start().await;
    let db = TestDatabase::create(&subgraph_commercial::MIGRATOR).await;
    let mut service = harness.service(&db);
    if !hearing_core {
        service.events = nats::isolated_events(&harness.events.nats_url);
    }
    let settings = subgraph_commercial::config::Settings::for_tests(service, &harness.base_url);
    let built = subgraph_commercial::startup::build(settings, Some(db.pool.clone())).await;
    let directory = ("commercial-directory", DirectoryEvent::TYPES);
    SubgraphApps::new(harness, db, Some(built), directory, hearing_core)
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
        invoice_id: None,
        schedule_id: None,
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
