//! Core and finance, running (the shared harness), and fixtures: users acting on them,
//! events published as other subgraphs will.

use crm_events::EventSet;
use crm_test_support::{
    harness::{Harness, SubgraphApps},
    GqlResponse, TestDatabase,
};
use serde_json::{json, Value};
use subgraph_kit::directory::DirectoryEvent;

pub use crm_test_support::Session;

pub type TestApps = SubgraphApps;

/// The deployment's internal token the tests configure finance with.
pub const INTERNAL_TOKEN: &str = "test-internal-token-0123456789abcdef";

pub async fn spawn_apps() -> TestApps {
    let harness = Harness::start().await;
    let db = TestDatabase::create(&subgraph_finance::MIGRATOR).await;
    let documents = std::env::temp_dir().join(format!("crm-finance-documents-{}", db.name));
    let mut settings = subgraph_finance::config::Settings::for_tests(
        harness.service(&db),
        &harness.base_url,
        documents,
    );
    settings.documents.internal_token = Some(INTERNAL_TOKEN.into());
    let built = subgraph_finance::startup::build(settings, Some(db.pool.clone())).await;
    let directory = ("finance-directory", DirectoryEvent::TYPES);
    SubgraphApps::new(harness, db, Some(built), directory, true)
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
    if let Some(token) = session.map(|s| s.token.clone()) {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

/// `GET` an invoice's PDF as one of our services would: the internal token (or `token`), the
/// organisation header (when given).
pub async fn internal_download(
    url: &str,
    token: &str,
    organisation: Option<&str>,
) -> (u16, Vec<u8>) {
    let url = url.replace("/invoices/", "/internal/invoices/");
    let mut request = reqwest::Client::new().get(url).bearer_auth(token);
    if let Some(organisation) = organisation {
        request = request.header(subgraph_kit::internal::ORGANISATION_HEADER, organisation);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

/// An event as another subgraph publishes it (v1), with a payload written out by hand.
pub fn envelope(
    event_type: &str,
    organisation_id: &str,
    payload: serde_json::Value,
) -> subgraph_kit::events::Envelope {
    subgraph_kit::events::Envelope {
        id: uuid::Uuid::now_v7(),
        event_type: event_type.into(),
        version: 1,
        organisation_id: uuid::Uuid::parse_str(organisation_id).unwrap(),
        occurred_at: chrono::Utc::now(),
        correlation_id: None,
        causation_id: None,
        trace_context: None,
        payload,
    }
}
