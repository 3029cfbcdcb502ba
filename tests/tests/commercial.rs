//! The commercial flow through the gateway: a catalogue, a contract for a core client, signed,
//! read back in one request across core and commercial; its event on JetStream.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull};
use crm_e2e::harness::Stack;
use crm_test_support::wait_for;
use futures::StreamExt;
use serde_json::json;

#[tokio::test]
async fn a_signed_contract_reads_across_subgraphs_and_is_published() {
    let stack = Stack::start().await;
    let (owner, payload) = stack.sign_up("owner@example.fr", "Acme").await;
    let organisation_id = payload["organisation"]["id"].as_str().unwrap().to_owned();
    let client = owner
        .run(
            "mutation { createClient(input: {kind: COMPANY, name: \"Dupont SA\"}) { id } }",
            json!({}),
        )
        .await;
    let client_id = client.data()["createClient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut products = Vec::new();
    for (sku, name, price) in [
        ("ASS-1", "Assurance habitation", "19.99"),
        ("SRV-1", "Assistance", "5.00"),
    ] {
        let created = owner
            .run(
                "mutation($input: ProductInput!) { createProduct(input: $input) { id } }",
                json!({"input": {"sku": sku, "name": name, "unitPrice": price, "vatRate": "20"}}),
            )
            .await;
        let id = created.data()["createProduct"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        owner
            .run(
                "mutation($id: ID!) { changeProductStatus(id: $id, status: ACTIVE) { status } }",
                json!({"id": id}),
            )
            .await
            .data();
        products.push(id);
    }

    // Commercial learns of the client from core's event: the contract is accepted once it has.
    let input = json!({"input": {
        "reference": "CTR-2026-001", "title": "Habitation", "clientId": client_id,
        "startDate": "2026-01-01", "billingFrequency": "MONTHLY",
        "lines": [{"productId": products[0], "quantity": "1"}, {"productId": products[1], "quantity": "2"}],
    }});
    let contract = wait_for(Duration::from_secs(20), || async {
        let response = owner
            .run("mutation($input: CreateContractInput!) { createContract(input: $input) { id totalInclVat } }", input.clone())
            .await;
        (response.errors().is_empty()).then(|| response.data()["createContract"].clone())
    })
    .await
    .expect("the contract is created once commercial knows the client");
    assert_eq!(contract["totalInclVat"], "35.99"); // (19.99 + 10.00) × 1.2 = 35.988
    let contract_id = contract["id"].as_str().unwrap();
    let signed = owner
        .run(
            "mutation($id: ID!) { signContract(id: $id, signatureDate: \"2026-01-10\") { status } }",
            json!({"id": contract_id}),
        )
        .await;
    assert_eq!(signed.data()["signContract"]["status"], "SIGNED");

    let read = owner
        .run(
            "query($id: ID!) { client(id: $id) { name contracts { totalCount nodes { reference status lines { product { name } } } } } }",
            json!({"id": client_id}),
        )
        .await;
    assert_eq!(
        read.data()["client"],
        json!({"name": "Dupont SA", "contracts": {"totalCount": 1, "nodes": [{"reference": "CTR-2026-001", "status": "SIGNED", "lines": [
            {"product": {"name": "Assurance habitation"}}, {"product": {"name": "Assistance"}}]}]}})
    );
    // And the other way: a contract's client resolved by core.
    let back = owner
        .run(
            "query($id: ID!) { contract(id: $id) { client { name } } }",
            json!({"id": contract_id}),
        )
        .await;
    assert_eq!(back.data()["contract"]["client"]["name"], "Dupont SA");

    // contract.signed is on JetStream, with the organisation.
    let nats = stack.nats.client_as(subgraph_kit::bus::OPERATOR).await;
    let js = jetstream::new(nats);
    let subject = stack.events.subject("contract.signed");
    let event = wait_for(Duration::from_secs(20), || async {
        let stream = js.get_stream(&stack.events.stream).await.ok()?;
        let consumer = stream
            .create_consumer(pull::Config {
                filter_subject: subject.clone(),
                ..Default::default()
            })
            .await
            .ok()?;
        let mut batch = consumer
            .fetch()
            .max_messages(1)
            .expires(Duration::from_secs(1))
            .messages()
            .await
            .ok()?;
        let message = batch.next().await?.ok()?;
        serde_json::from_slice::<serde_json::Value>(&message.payload).ok()
    })
    .await
    .expect("contract.signed reaches JetStream");
    assert_eq!(event["type"], "contract.signed");
    assert_eq!(event["organisation_id"], organisation_id.as_str());
    assert_eq!(event["payload"]["contract"]["contract_id"], contract_id);
    assert_eq!(
        event["payload"]["contract"]["client_id"],
        client_id.as_str()
    );
    assert_eq!(event["payload"]["contract"]["total_incl_vat"], "35.99");

    // Another organisation sees none of it.
    let (intruder, _) = stack.sign_up("intruder@example.fr", "Other").await;
    let hidden = intruder
        .run(
            "query($id: ID!) { contract(id: $id) { id } }",
            json!({"id": contract_id}),
        )
        .await;
    assert_eq!(hidden.error_code(), "NOT_FOUND");
}
