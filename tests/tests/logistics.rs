//! Logistics end to end through the gateway, with the fake Maileva: an invoice issued for a
//! client whose setting is postal becomes exactly one sending carrying the issued PDF;
//! Maileva's notifications move the shipment along (once, however often they come), and the
//! client's timeline tells the story. Another organisation sees none of it, and a letter
//! whose address breaks the postal rules is refused before anything is recorded.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use std::time::Duration;

use crm_e2e::harness::{company_client, invoicing_setup, signed_contract, Stack};
use crm_test_support::{maileva, wait_for, GraphqlClient};
use serde_json::{json, Value};

/// A one-page PDF that lopdf reads.
const LETTER: &[u8] = b"%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj
trailer << /Root 1 0 R >>
%%EOF
";

const CREATE_ACCOUNT: &str =
    "mutation($input: CreateCarrierAccountInput!) { createCarrierAccount(input: $input) {
    id clientId senderAddress invoicesByPost webhooksRegisteredAt webhooksError } }";

/// A Maileva account of `societe` (the fake's credentials); its invoices go as `kind`.
fn account_input(societe: &str, kind: &str) -> Value {
    json!({"input": {
        "societeId": societe, "label": "Maileva", "sandbox": true, "invoiceLetterKind": kind,
        "clientId": maileva::CLIENT_ID, "clientSecret": maileva::CLIENT_SECRET,
        "username": maileva::USERNAME, "password": maileva::PASSWORD,
        "notificationEmail": "courrier@acme.fr",
        "sender": {"line1": "Acme SAS", "line4": "1 rue de la Paix", "postalCode": "75002", "city": "Paris"}}})
}

/// The société's Maileva account, as an admin connects it; its invoices go as `kind`.
async fn carrier_account(owner: &GraphqlClient, societe: &str, kind: &str) -> Value {
    let created = owner
        .run(CREATE_ACCOUNT, account_input(societe, kind))
        .await;
    created.data()["createCarrierAccount"].clone()
}

/// `POST /documents` on logistics with `token`: the status and the JSON answer.
async fn upload(stack: &Stack, token: &str, body: &[u8]) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/documents?fileName=courrier.pdf",
            stack.logistics.base_url
        ))
        .bearer_auth(token)
        .header("content-type", "application/pdf")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Gives the client a default billing address in core.
async fn billing_address(owner: &GraphqlClient, client: &str) {
    owner
        .run(
            "mutation($id: ID!) { addAddress(clientId: $id, input: {kind: BILLING, line1: \"2 avenue Foch\",
                 postalCode: \"69006\", city: \"Lyon\", isDefault: true}) { id } }",
            json!({"id": client}),
        )
        .await
        .data();
}

/// Issues the draft finance made from `contract`; the issued invoice (number, documentSha256).
async fn issue_contract_invoice(
    owner: &GraphqlClient,
    contract: &str,
    client: &str,
    societe: &str,
) -> Value {
    let draft = wait_for(Duration::from_secs(20), || async {
        let r = owner
            .run(
                "query($id: ID!) { contract(id: $id) { invoices { nodes { id } } } }",
                json!({"id": contract}),
            )
            .await;
        r.data()["contract"]["invoices"]["nodes"][0]["id"]
            .as_str()
            .map(str::to_owned)
    })
    .await
    .expect("a draft from the signed contract");
    owner
        .run(
            "mutation($id: ID!, $input: InvoiceInput!) { updateInvoice(id: $id, input: $input) { id } }",
            json!({"id": draft, "input": {"societeId": societe, "clientId": client, "contractId": contract,
                "buyerAddressLine1": "2 avenue Foch", "buyerPostalCode": "69006", "buyerCity": "Lyon",
                "lines": [{"productReference": "ASS-1", "description": "Assurance", "quantity": "2", "unitPrice": "19.99", "vatRate": "20"}]}}),
        )
        .await
        .data();
    let issued = owner
        .run(
            "mutation($id: ID!) { issueInvoice(id: $id, issueDate: \"2026-01-15\") { id number documentSha256 } }",
            json!({"id": draft}),
        )
        .await;
    issued.data()["issueInvoice"].clone()
}

const CLIENT_SHIPMENTS: &str = "query($id: ID!) { client(id: $id) { shipments { totalCount nodes {
    id status reason kind trackingStatus trackingNumber recipientAddress invoice { id number }
    trackingEvents { code status source } history { from to } } } } }";

#[tokio::test]
async fn an_invoice_for_a_postal_client_is_posted_once_and_tracked() {
    let stack = Stack::start().await;
    let (owner, _) = stack.sign_up("owner@example.fr", "Acme").await;
    let client = company_client(&owner).await;
    billing_address(&owner, &client).await;
    let (societe, product) = invoicing_setup(&owner).await;

    // The société connects its Maileva account: the secrets never come back, the
    // notifications are subscribed to.
    let account = carrier_account(&owner, &societe, "REGISTERED_LETTER").await;
    assert_eq!(account["clientId"], maileva::CLIENT_ID);
    assert!(account["webhooksError"].is_null(), "{account}");
    assert!(!account["webhooksRegisteredAt"].is_null(), "{account}");
    assert_eq!(account["invoicesByPost"], false);
    let subscriptions = stack.maileva.subscriptions();
    assert!(!subscriptions.is_empty());
    assert!(subscriptions.iter().all(|s| s["callback_url"]
        .as_str()
        .unwrap()
        .starts_with(&stack.logistics.base_url)));
    let listed = owner
        .run("{ carrierAccounts { id label } }", json!({}))
        .await;
    assert!(!listed.body.to_string().contains(maileva::CLIENT_SECRET));
    assert!(!listed.body.to_string().contains(maileva::PASSWORD));

    // The client's own setting: its invoices go by post.
    let set = owner
        .run(
            "mutation($id: ID!) { setClientPostalPreference(clientId: $id, invoicesByPost: true) { id invoicesByPost } }",
            json!({"id": client}),
        )
        .await;
    assert_eq!(
        set.data()["setClientPostalPreference"]["invoicesByPost"],
        true
    );

    let contract = signed_contract(&owner, &client, &societe, &product).await;
    let invoice = issue_contract_invoice(&owner, &contract, &client, &societe).await;
    let invoice_id = invoice["id"].as_str().unwrap().to_owned();

    // The letter is queued from `invoice.issued` and submitted to Maileva.
    let shipment = wait_for(Duration::from_secs(30), || async {
        let r = owner.run(CLIENT_SHIPMENTS, json!({"id": client})).await;
        let node = r.data()["client"]["shipments"]["nodes"][0].clone();
        (node["status"] == "SUBMITTED").then_some(node)
    })
    .await
    .expect("the invoice's letter submitted");
    assert_eq!(shipment["reason"], "INVOICE");
    assert_eq!(shipment["kind"], "REGISTERED_LETTER");
    assert_eq!(shipment["invoice"]["number"], invoice["number"]);
    assert!(shipment["recipientAddress"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l.as_str().unwrap().contains("69006")));

    // Exactly one sending, carrying the very PDF finance issued, to the client's address.
    let sendings = stack.maileva.sendings();
    assert_eq!(sendings.len(), 1, "one sending");
    let sending = &sendings[0];
    assert_eq!(sending.status, "PENDING");
    assert_eq!(sending.documents.len(), 1);
    assert_eq!(
        subgraph_kit::digest::sha256_hex(&sending.documents[0].1),
        invoice["documentSha256"].as_str().unwrap()
    );
    assert_eq!(sending.recipients.len(), 1);
    assert!(sending.recipients[0]["address_line_6"]
        .as_str()
        .unwrap()
        .starts_with("69006"));

    // Maileva's notifications: accepted, handed to La Poste, the acknowledgement of receipt
    // signed — each delivered twice.
    let recipient = sending.recipients[0]["id"].as_str().unwrap().to_owned();
    let shipment_id = shipment["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        for (event, resource, date) in [
            ("ON_STATUS_ACCEPTED", &sending.id, "2026-01-16T08:00:00Z"),
            ("ON_STATUS_PROCESSED", &sending.id, "2026-01-16T09:00:00Z"),
            (
                "ON_ACKNOWLEDGEMENT_OF_RECEIPT_RECEIVED",
                &recipient,
                "2026-01-18T10:00:00Z",
            ),
        ] {
            let answers = stack
                .maileva
                .notify(event, resource, Some(&shipment_id), date)
                .await;
            assert!(
                !answers.is_empty() && answers.iter().all(|a| *a == 201),
                "{answers:?}"
            );
        }
    }
    // Wrong credentials: 401, nothing recorded.
    let callback = stack.maileva.subscriptions()[0]["callback_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let forged = reqwest::Client::new()
        .post(&callback)
        .basic_auth(callback.rsplit('/').next().unwrap(), Some("guessed"))
        .json(
            &json!({"event_type": "ON_STATUS_REJECTED", "event_date": "2026-01-16T09:00:00Z",
                      "resource_id": sending.id}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);

    let read = owner.run(CLIENT_SHIPMENTS, json!({"id": client})).await;
    let shipments = &read.data()["client"]["shipments"];
    assert_eq!(shipments["totalCount"], 1, "posted once");
    let tracked = &shipments["nodes"][0];
    assert_eq!(tracked["status"], "DELIVERED");
    assert_eq!(tracked["trackingStatus"], "DELIVERED");
    let codes: Vec<&str> = tracked["trackingEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "ON_STATUS_ACCEPTED",
            "ON_STATUS_PROCESSED",
            "ON_ACKNOWLEDGEMENT_OF_RECEIPT_RECEIVED"
        ],
        "each once"
    );
    let path: Vec<&str> = tracked["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to"].as_str().unwrap())
        .collect();
    assert_eq!(
        path,
        ["QUEUED", "SUBMITTED", "ACCEPTED", "PROCESSED", "DELIVERED"]
    );

    // The invoice and the contract know their letter too.
    let from_invoice = owner
        .run(
            "query($id: ID!) { invoice(id: $id) { shipments { nodes { id } } } }",
            json!({"id": invoice_id}),
        )
        .await;
    assert_eq!(
        from_invoice.data()["invoice"]["shipments"]["nodes"][0]["id"],
        tracked["id"]
    );

    // The client's timeline tells the story (engagement hears logistics).
    let timeline = wait_for(Duration::from_secs(20), || async {
        let r = owner
            .run(
                "query($id: ID!) { client(id: $id) { activities(first: 20) { nodes { subject type { code } createdBy { id } } } } }",
                json!({"id": client}),
            )
            .await;
        let nodes = r.data()["client"]["activities"]["nodes"].as_array().cloned()?;
        let letters: Vec<Value> = nodes
            .into_iter()
            .filter(|a| a["type"]["code"] == "POSTAL_MAIL")
            .collect();
        letters
            .iter()
            .any(|a| a["subject"].as_str().unwrap().contains("distribuée"))
            .then_some(letters)
    })
    .await
    .expect("the letter on the client's timeline");
    assert!(timeline.iter().all(|a| a["createdBy"].is_null()));
    assert!(timeline
        .iter()
        .any(|a| a["subject"].as_str().unwrap().contains("en préparation")));

    // The owner is told of the delivery (an invoice's letter: nobody asked for it by hand).
    let told = wait_for(Duration::from_secs(20), || async {
        let r = owner
            .run(
                "{ notifications(first: 20) { nodes { kind title } } }",
                json!({}),
            )
            .await;
        let nodes = r.data()["notifications"]["nodes"].as_array().cloned()?;
        nodes
            .into_iter()
            .find(|n| n["kind"] == "SHIPMENT_DELIVERED")
    })
    .await
    .expect("a delivery notification");
    assert_eq!(told["title"], "Courrier distribué");

    // Another organisation sees none of it, and cannot post another's invoice.
    let (other, _) = stack.sign_up("other@example.fr", "Other").await;
    let other_client = company_client(&other).await;
    let foreign_invoice = other
        .run(
            "mutation($input: CreateShipmentInput!) { createShipment(input: $input) { id } }",
            json!({"input": {"clientId": other_client, "invoiceId": invoice_id}}),
        )
        .await;
    assert_eq!(foreign_invoice.error_code(), "NOT_FOUND");
    let id = tracked["id"].as_str().unwrap();
    let foreign = other
        .run(
            "query($id: ID!) { shipment(id: $id) { id } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(foreign.error_code(), "NOT_FOUND");
    let none = other
        .run(
            "{ shipments { totalCount } carrierAccounts { id } }",
            json!({}),
        )
        .await;
    assert_eq!(none.data()["shipments"]["totalCount"], 0);
    assert_eq!(none.data()["carrierAccounts"], json!([]));
    // (Every other operation is refused to it too: the scoping test below.)
    // Delivered: it cannot be cancelled any more.
    let late = owner
        .run(
            "mutation($id: ID!) { cancelShipment(id: $id) { id } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(late.error_code(), "INVALID_TRANSITION");
}

#[tokio::test]
async fn an_uploaded_letter_is_checked_before_anything_is_recorded() {
    let stack = Stack::start().await;
    let (owner, _) = stack.sign_up("owner@example.fr", "Acme").await;
    let client = company_client(&owner).await;
    billing_address(&owner, &client).await;
    let (societe, _) = invoicing_setup(&owner).await;
    carrier_account(&owner, &societe, "SIMPLE_LETTER").await;
    let token = owner.token.clone().unwrap();
    // Not a PDF: refused with its code.
    let (status, refused) = upload(&stack, &token, b"hello").await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("VALIDATION"))
    );
    let (status, document) = upload(&stack, &token, LETTER).await;
    assert_eq!(status, 201, "{document}");
    assert_eq!(document["pages"], 1);
    let document_id = document["id"].as_str().unwrap().to_owned();

    // An address breaking the postal rules: every rule at once, nothing recorded.
    let create = "mutation($input: CreateShipmentInput!) { createShipment(input: $input) { id status priceEstimate recipientAddress } }";
    let bad = owner
        .run(
            create,
            json!({"input": {"clientId": client, "societeId": societe, "documentId": document_id,
                "address": {"line1": "Dupont SA — service de la comptabilité fournisseurs", "line4": "2 avenue Foch",
                            "postalCode": "6900", "city": "Lyon"}}}),
        )
        .await;
    assert_eq!(bad.error_code(), "VALIDATION");
    let fields: Vec<String> = bad.errors()[0]["extensions"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        fields.contains(&"address.lines[0]".to_owned()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"address.postalCode".to_owned()),
        "{fields:?}"
    );
    let count = owner.run("{ shipments { totalCount } }", json!({})).await;
    assert_eq!(count.data()["shipments"]["totalCount"], 0);

    // The client's own address: queued with its estimate, then submitted.
    let made = owner
        .run(
            create,
            json!({"input": {"clientId": client, "societeId": societe, "documentId": document_id,
                "kind": "REGISTERED_LETTER", "acknowledgementOfReceipt": true}}),
        )
        .await;
    let shipment = made.data()["createShipment"].clone();
    assert_eq!(shipment["status"], "QUEUED");
    assert_eq!(shipment["priceEstimate"], "7.21");
    let id = shipment["id"].as_str().unwrap().to_owned();
    let submitted = wait_for(Duration::from_secs(30), || async {
        let r = owner
            .run(
                "query($id: ID!) { shipment(id: $id) { status } }",
                json!({"id": id}),
            )
            .await;
        (r.data()["shipment"]["status"] == "SUBMITTED").then_some(())
    })
    .await;
    assert!(submitted.is_some(), "submitted to Maileva");
    let sendings = stack.maileva.sendings();
    assert_eq!(sendings.len(), 1);
    assert_eq!(sendings[0].api, "registered_mail/v2");
    assert_eq!(sendings[0].documents[0].1, LETTER);

    // La Poste has it: its deposit proof is downloaded and kept.
    let proof = b"%PDF-1.4\n% preuve de depot\n%%EOF\n";
    stack
        .maileva
        .set_proof(&sendings[0].id, "deposit_proof", proof);
    let answers = stack
        .maileva
        .notify(
            "ON_DEPOSIT_PROOF_RECEIVED",
            &sendings[0].id,
            Some(&id),
            "2026-01-16T10:00:00Z",
        )
        .await;
    assert!(answers.contains(&201), "{answers:?}");
    let proof_url = wait_for(Duration::from_secs(30), || async {
        let r = owner
            .run(
                "query($id: ID!) { shipment(id: $id) { depositProofUrl } }",
                json!({"id": id}),
            )
            .await;
        r.data()["shipment"]["depositProofUrl"]
            .as_str()
            .map(str::to_owned)
    })
    .await
    .expect("the deposit proof kept");
    let kept = reqwest::Client::new()
        .get(&proof_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(kept.bytes().await.unwrap().to_vec(), proof);

    // Another organisation cannot use the document, nor read it.
    let (other, _) = stack.sign_up("other@example.fr", "Other").await;
    let download = reqwest::Client::new()
        .get(format!(
            "{}/documents/{document_id}",
            stack.logistics.base_url
        ))
        .bearer_auth(other.token.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(download.status().as_u16(), 404);
    let own = reqwest::Client::new()
        .get(format!(
            "{}/documents/{document_id}",
            stack.logistics.base_url
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status().as_u16(), 200);
    assert_eq!(own.bytes().await.unwrap().to_vec(), LETTER);
}

#[tokio::test]
async fn every_logistics_operation_is_scoped_to_the_callers_organisation() {
    let stack = Stack::start().await;
    let (owner, _) = stack.sign_up("owner@example.fr", "Acme").await;
    let client = company_client(&owner).await;
    billing_address(&owner, &client).await;
    let (societe, _) = invoicing_setup(&owner).await;
    let account = carrier_account(&owner, &societe, "SIMPLE_LETTER").await;
    let account_id = account["id"].as_str().unwrap().to_owned();
    let (status, document) = upload(&stack, owner.token.as_deref().unwrap(), LETTER).await;
    assert_eq!(status, 201);
    let document_id = document["id"].as_str().unwrap().to_owned();
    let made = owner
        .run(
            "mutation($input: CreateShipmentInput!) { createShipment(input: $input) { id } }",
            json!({"input": {"clientId": client, "societeId": societe, "documentId": document_id}}),
        )
        .await;
    let shipment = made.data()["createShipment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let submitted = wait_for(Duration::from_secs(30), || async {
        let r = owner
            .run(
                "query($id: ID!) { shipment(id: $id) { status } }",
                json!({"id": shipment}),
            )
            .await;
        (r.data()["shipment"]["status"] == "SUBMITTED").then_some(())
    })
    .await;
    assert!(submitted.is_some());
    // Guarded: a letter with the carrier is not retried.
    let retried = owner
        .run(
            "mutation($id: ID!) { retryShipment(id: $id) { id } }",
            json!({"id": shipment}),
        )
        .await;
    assert_eq!(retried.error_code(), "INVALID_TRANSITION");
    let sending = stack.maileva.sendings()[0].id.clone();

    // Another organisation, with its own société, client and account.
    let (other, _) = stack.sign_up("other@example.fr", "Other").await;
    let other_client = company_client(&other).await;
    let other_societe = other
        .run(
            "mutation { createSociete(input: {name: \"Autre SAS\", siren: \"732829320\"}) { id } }",
            json!({}),
        )
        .await;
    let other_societe = other_societe.data()["createSociete"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other_account = carrier_account(&other, &other_societe, "SIMPLE_LETTER").await;
    let other_account_id = other_account["id"].as_str().unwrap().to_owned();

    let code = |r: crm_test_support::GqlResponse| r.error_code();
    let run = |query: &'static str, variables: Value| {
        let other = other.clone();
        async move { other.run(query, variables).await }
    };
    // Queries.
    assert_eq!(
        code(
            run(
                "query($id: ID!) { shipment(id: $id) { id } }",
                json!({"id": shipment})
            )
            .await
        ),
        "NOT_FOUND"
    );
    assert_eq!(
        code(
            run(
                "query($id: ID!) { carrierAccount(id: $id) { id } }",
                json!({"id": account_id})
            )
            .await
        ),
        "NOT_FOUND"
    );
    let lists = run(
        "query($c: ID!) { shipments(filter: {clientId: $c}) { totalCount } carrierAccounts { id } }",
        json!({"c": client}),
    )
    .await;
    assert_eq!(lists.data()["shipments"]["totalCount"], 0);
    assert_eq!(
        lists.data()["carrierAccounts"],
        json!([{"id": other_account_id}])
    );
    // Mutations.
    for (mutation, variables) in [
        ("mutation($id: ID!) { cancelShipment(id: $id) { id } }", json!({"id": shipment})),
        ("mutation($id: ID!) { retryShipment(id: $id) { id } }", json!({"id": shipment})),
        (
            "mutation($id: ID!) { updateCarrierAccount(id: $id, input: {label: \"Pris\"}) { id } }",
            json!({"id": account_id}),
        ),
        ("mutation($id: ID!) { deactivateCarrierAccount(id: $id) { id } }", json!({"id": account_id})),
        ("mutation($id: ID!) { registerCarrierWebhooks(id: $id) { id } }", json!({"id": account_id})),
        (
            "mutation($id: ID!) { setClientPostalPreference(clientId: $id, invoicesByPost: true) { id } }",
            json!({"id": client}),
        ),
        (
            "mutation($input: CreateShipmentInput!) { createShipment(input: $input) { id } }",
            json!({"input": {"clientId": client, "societeId": other_societe, "documentId": document_id}}),
        ),
        (
            "mutation($input: CreateShipmentInput!) { createShipment(input: $input) { id } }",
            json!({"input": {"clientId": other_client, "societeId": other_societe, "documentId": document_id}}),
        ),
        (
            "mutation($input: CreateShipmentInput!) { createShipment(input: $input) { id } }",
            json!({"input": {"clientId": other_client, "societeId": societe, "documentId": document_id}}),
        ),
    ] {
        let r = run(mutation, variables).await;
        assert!(
            matches!(r.error_code().as_str(), "NOT_FOUND" | "VALIDATION"),
            "{mutation}: {}",
            r.body
        );
    }
    let foreign_societe = run(
        "mutation($input: CreateCarrierAccountInput!) { createCarrierAccount(input: $input) { id } }",
        json!({"input": {"societeId": societe, "label": "x", "clientId": "x", "clientSecret": "x",
            "username": "x", "password": "x", "notificationEmail": "a@b.fr",
            "sender": {"line1": "X", "postalCode": "75002", "city": "Paris"}}}),
    )
    .await;
    assert_eq!(foreign_societe.error_code(), "NOT_FOUND");
    // Entities, asked of logistics itself as the gateway would.
    let direct = GraphqlClient::new(stack.logistics.url()).with_token(other.token.clone().unwrap());
    let entities = direct
        .run(
            "query($r: [_Any!]!) { _entities(representations: $r) {
                 ... on Shipment { id } ... on Client { shipments { totalCount } invoicesByPost } } }",
            json!({"r": [{"__typename": "Shipment", "id": shipment}, {"__typename": "Client", "id": client}]}),
        )
        .await;
    assert_eq!(entities.data()["_entities"][0], Value::Null);
    assert_eq!(
        entities.data()["_entities"][1]["shipments"]["totalCount"],
        0
    );
    // Routes: the other's document neither downloads nor is used.
    let download = reqwest::Client::new()
        .get(format!(
            "{}/documents/{document_id}",
            stack.logistics.base_url
        ))
        .bearer_auth(other.token.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(download.status().as_u16(), 404);
    // The webhook: the other account's credentials about this organisation's sending are
    // acknowledged and change nothing.
    let theirs = stack
        .maileva
        .subscriptions()
        .into_iter()
        .find(|s| {
            s["callback_url"]
                .as_str()
                .unwrap()
                .ends_with(&other_account_id)
        })
        .unwrap();
    let basic = &theirs["authentication"]["basic"];
    let crossed = reqwest::Client::new()
        .post(theirs["callback_url"].as_str().unwrap())
        .basic_auth(basic["login"].as_str().unwrap(), basic["password"].as_str())
        .json(&json!({"event_type": "ON_STATUS_REJECTED", "resource_type": "mail/v2/sendings",
            "event_date": "2026-01-16T09:00:00Z", "resource_id": sending, "resource_custom_id": shipment}))
        .send()
        .await
        .unwrap();
    assert_eq!(crossed.status().as_u16(), 201);
    // This account's credentials on the other account's route: refused.
    let mine = stack
        .maileva
        .subscriptions()
        .into_iter()
        .find(|s| s["callback_url"].as_str().unwrap().ends_with(&account_id))
        .unwrap();
    let wrong_route = reqwest::Client::new()
        .post(theirs["callback_url"].as_str().unwrap())
        .basic_auth(
            mine["authentication"]["basic"]["login"].as_str().unwrap(),
            mine["authentication"]["basic"]["password"].as_str(),
        )
        .json(
            &json!({"event_type": "ON_STATUS_REJECTED", "event_date": "2026-01-16T09:00:00Z",
            "resource_id": sending}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_route.status().as_u16(), 401);
    let unchanged = owner
        .run(
            "query($id: ID!) { shipment(id: $id) { status trackingEvents { code } } }",
            json!({"id": shipment}),
        )
        .await;
    assert_eq!(unchanged.data()["shipment"]["status"], "SUBMITTED");
    assert_eq!(unchanged.data()["shipment"]["trackingEvents"], json!([]));
}

#[tokio::test]
async fn a_signed_contract_gets_the_welcome_letter_its_societe_configured() {
    let stack = Stack::start().await;
    let (owner, _) = stack.sign_up("owner@example.fr", "Acme").await;
    let client = company_client(&owner).await;
    billing_address(&owner, &client).await;
    let (societe, product) = invoicing_setup(&owner).await;
    let account = carrier_account(&owner, &societe, "SIMPLE_LETTER").await;
    let account_id = account["id"].as_str().unwrap().to_owned();
    let (_, uploaded) = upload(&stack, owner.token.as_deref().unwrap(), LETTER).await;
    let document = uploaded["id"].as_str().unwrap().to_owned();
    let configure = "mutation($id: ID!, $doc: ID) { updateCarrierAccount(id: $id, input: {welcomeLetterDocumentId: $doc}) { welcomeLetterDocumentId } }";
    // Another organisation's document cannot be the welcome letter.
    let (other, _) = stack.sign_up("other@example.fr", "Other").await;
    let (_, theirs) = upload(&stack, other.token.as_deref().unwrap(), LETTER).await;
    let refused = owner
        .run(configure, json!({"id": account_id, "doc": theirs["id"]}))
        .await;
    assert_eq!(refused.error_code(), "NOT_FOUND");
    let set = owner
        .run(configure, json!({"id": account_id, "doc": document}))
        .await;
    assert_eq!(
        set.data()["updateCarrierAccount"]["welcomeLetterDocumentId"],
        document.as_str()
    );

    let contract = signed_contract(&owner, &client, &societe, &product).await;
    let letter = wait_for(Duration::from_secs(30), || async {
        let r = owner
            .run(
                "query($id: ID!) { contract(id: $id) { shipments { totalCount nodes { reason status client { id } } } } }",
                json!({"id": contract}),
            )
            .await;
        let node = r.data()["contract"]["shipments"]["nodes"][0].clone();
        (node["status"] == "SUBMITTED").then_some(r.data()["contract"]["shipments"].clone())
    })
    .await
    .expect("the welcome letter submitted");
    assert_eq!(letter["totalCount"], 1);
    assert_eq!(letter["nodes"][0]["reason"], "WELCOME_LETTER");
    assert_eq!(letter["nodes"][0]["client"]["id"], client.as_str());
    let sendings = stack.maileva.sendings();
    assert_eq!(sendings.len(), 1);
    assert_eq!(sendings[0].documents[0].1, LETTER);

    // Cleared: the next contract gets none.
    let cleared = owner
        .run(configure, json!({"id": account_id, "doc": null}))
        .await;
    assert!(cleared.data()["updateCarrierAccount"]["welcomeLetterDocumentId"].is_null());
}

#[tokio::test]
async fn roles_decide_who_connects_accounts_and_who_posts() {
    let stack = Stack::start().await;
    let owner = stack.core.sign_up("owner@roles.fr", "Acme").await;
    let member = stack.core.join(&owner, "member@roles.fr", "MEMBER").await;
    let viewer = stack.core.join(&owner, "viewer@roles.fr", "VIEWER").await;
    let as_user = |token: &str| stack.client().with_token(token.to_owned());
    let owner_api = as_user(&owner.token);
    let client = company_client(&owner_api).await;
    let (societe, _) = invoicing_setup(&owner_api).await;

    // Connecting Maileva is for admins; a member cannot, nor list the accounts.
    let by_member = as_user(&member.token)
        .run(CREATE_ACCOUNT, account_input(&societe, "SIMPLE_LETTER"))
        .await;
    assert_eq!(by_member.error_code(), "FORBIDDEN");
    let refused = as_user(&member.token)
        .run("{ carrierAccounts { id } }", json!({}))
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
    assert!(!carrier_account(&owner_api, &societe, "SIMPLE_LETTER").await["id"].is_null());

    // A viewer reads letters but neither uploads nor posts nor changes a client's setting.
    assert_eq!(upload(&stack, &viewer.token, LETTER).await.0, 403);
    let viewer_api = as_user(&viewer.token);
    assert_eq!(
        viewer_api
            .run("{ shipments { totalCount } }", json!({}))
            .await
            .data()["shipments"]["totalCount"],
        0
    );
    let post = viewer_api
        .run(
            "mutation($input: CreateShipmentInput!) { createShipment(input: $input) { id } }",
            json!({"input": {"clientId": client, "societeId": societe}}),
        )
        .await;
    assert_eq!(post.error_code(), "FORBIDDEN");
    let setting = viewer_api
        .run(
            "mutation($id: ID!) { setClientPostalPreference(clientId: $id, invoicesByPost: true) { id } }",
            json!({"id": client}),
        )
        .await;
    assert_eq!(setting.error_code(), "FORBIDDEN");
    // A member uploads.
    assert_eq!(upload(&stack, &member.token, LETTER).await.0, 201);
}
