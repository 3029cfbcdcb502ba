//! The finance flow through the gateway: a contract signed in commercial becomes a draft
//! invoice in finance, issued with its number and Factur-X, read from the client in core.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use std::time::Duration;

use crm_e2e::harness::{company_client, invoicing_setup, signed_contract, Stack};
use crm_test_support::wait_for;
use serde_json::json;

#[tokio::test]
async fn a_signed_contract_becomes_an_invoice_read_from_the_client() {
    let stack = Stack::start().await;
    let (owner, _) = stack.sign_up("owner@example.fr", "Acme").await;
    let client = company_client(&owner).await;
    let (societe, product) = invoicing_setup(&owner).await;
    let contract = signed_contract(&owner, &client, &societe, &product).await;

    // The draft appears on the contract, in one request across commercial and finance.
    let draft = wait_for(Duration::from_secs(20), || async {
        let r = owner
            .run("query($id: ID!) { contract(id: $id) { reference invoices { nodes { id status totalInclVat } } } }", json!({"id": contract}))
            .await;
        let invoices = r.data()["contract"]["invoices"]["nodes"].as_array().cloned().unwrap_or_default();
        invoices.first().cloned()
    })
    .await
    .expect("a draft invoice from the signed contract");
    assert_eq!(draft["status"], "DRAFT");
    assert_eq!(draft["totalInclVat"], "47.98");
    let id = draft["id"].as_str().unwrap();
    // The buyer's address is not in core's events yet: the draft is completed, then issued.
    let refused = owner
        .run(
            "mutation($id: ID!) { issueInvoice(id: $id, issueDate: \"2026-01-15\") { number } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(refused.error_code(), "VALIDATION");
    assert!(!refused.errors()[0]["extensions"]["problems"]
        .as_array()
        .unwrap()
        .is_empty());
    owner
        .run(
            "mutation($id: ID!, $input: InvoiceInput!) { updateInvoice(id: $id, input: $input) { id } }",
            json!({"id": id, "input": {"societeId": societe, "clientId": client, "contractId": contract,
                "buyerAddressLine1": "2 avenue Foch", "buyerPostalCode": "69006", "buyerCity": "Lyon",
                "lines": [{"productReference": "ASS-1", "description": "Assurance", "quantity": "2", "unitPrice": "19.99", "vatRate": "20"}]}}),
        )
        .await
        .data();
    let issued = owner
        .run("mutation($id: ID!) { issueInvoice(id: $id, issueDate: \"2026-01-15\") { number facturxXml } }", json!({"id": id}))
        .await;
    assert_eq!(issued.data()["issueInvoice"]["number"], "FAC2026-000001");
    if let Err(report) = subgraph_finance::domain::facturx::validate(
        issued.data()["issueInvoice"]["facturxXml"]
            .as_str()
            .unwrap(),
    ) {
        panic!("{report}");
    }
    let read = owner
        .run("query($id: ID!) { client(id: $id) { name invoices { nodes { number status totalInclVat pdfUrl } } } }", json!({"id": client}))
        .await;
    let client_read = &read.data()["client"];
    assert_eq!(client_read["name"], "Dupont SA");
    let invoice = &client_read["invoices"]["nodes"][0];
    assert_eq!(
        (
            &invoice["number"],
            &invoice["status"],
            &invoice["totalInclVat"]
        ),
        (&json!("FAC2026-000001"), &json!("ISSUED"), &json!("47.98"))
    );
    // The PDF downloads for the owning organisation only.
    let url = invoice["pdfUrl"].as_str().unwrap();
    let get = |token: Option<String>| {
        let url = url.to_owned();
        async move {
            let mut request = reqwest::Client::new().get(url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            (
                response.status().as_u16(),
                response.bytes().await.unwrap().to_vec(),
            )
        }
    };
    let (status, pdf) = get(owner.token.clone()).await;
    assert_eq!(status, 200);
    let xml = issued.data()["issueInvoice"]["facturxXml"]
        .as_str()
        .unwrap();
    if let Err(report) = subgraph_finance::domain::facturx::validate_pdf(&pdf, xml) {
        panic!("{report}");
    }
    let (intruder, _) = stack.sign_up("intruder@example.fr", "Other").await;
    assert_eq!(get(intruder.token.clone()).await.0, 404);
    assert_eq!(get(None).await.0, 401);
    let hidden = intruder
        .run(
            "query($id: ID!) { invoice(id: $id) { id } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(hidden.error_code(), "NOT_FOUND");
}
