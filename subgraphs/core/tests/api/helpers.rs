//! Core alone, running for a test (the shared harness), and fixtures.

use serde_json::{json, Value};

pub use crm_test_support::harness::{Harness as TestApp, Session, PASSWORD};

pub async fn spawn_app() -> TestApp {
    TestApp::start().await
}

/// The app publishing its events as `events` says (tests of the event flow use their own
/// NATS server).
pub async fn spawn_app_with(
    ttl_seconds: i64,
    events: subgraph_kit::events::EventsSettings,
) -> TestApp {
    TestApp::start_with(ttl_seconds, events).await
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
