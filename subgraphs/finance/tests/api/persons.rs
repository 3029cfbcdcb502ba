//! Private persons as buyers: no SIREN needed (B2C is out of the e-invoicing scope), their
//! e-mail address as the invoice's electronic address; and `payment.received` for payments
//! on an invoice that bills a contract.

use serde_json::{json, Value};

use crate::helpers::{
    envelope, issue, societe_with_settings, spawn_apps, Session, TestApps, INVOICE,
};

const SIREN: &str = "732829320";
const VAT: &str = "FR44732829320";

/// Marie Durand, a private person in core (with `email` when given), known to finance.
async fn person(apps: &TestApps, session: &Session, email: Option<&str>) -> String {
    let created = session
        .core
        .run(
            "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
            json!({"input": {"kind": "PERSON", "name": "Durand", "firstName": "Marie", "email": email,
                   "addresses": [{"kind": "BILLING", "line1": "12 rue des Lilas", "postalCode": "33000", "city": "Bordeaux"}]}}),
        )
        .await;
    let id = created.data()["createClient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    apps.wait_caught_up().await;
    id
}

/// `contract.signed` for `client` (2 × 19.99 excl. 20 % VAT, monthly), as commercial publishes it.
fn contract_signed(
    organisation_id: &str,
    contract: uuid::Uuid,
    client: &str,
    societe: &str,
) -> subgraph_kit::events::Envelope {
    envelope(
        "contract.signed",
        organisation_id,
        json!({"contract": {"contract_id": contract, "reference": "CTR-7", "client_id": client, "societe_id": societe, "signature_date": "2026-01-10",
                            "status": "SIGNED", "start_date": "2026-01-01", "billing_frequency": "MONTHLY", "currency": "EUR",
                            "total_excl_vat": "39.98", "total_vat": "8.00", "total_incl_vat": "47.98"},
               "lines": [{"line_id": uuid::Uuid::new_v4(), "product_id": uuid::Uuid::new_v4(),
                          "product_sku": "ASS-1", "product_name": "Assurance", "description": null, "quantity": "2.000", "unit_price": "19.99", "vat_rate": "20.0",
                          "total_excl_vat": "39.98", "total_vat": "8.00", "total_incl_vat": "47.98"}]}),
    )
}

async fn pay(session: &Session, invoice: &str, amount: &str) -> crm_test_support::GqlResponse {
    session
        .run(
            "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { status amountPaid } }",
            json!({"input": {"invoiceId": invoice, "amount": amount, "paidOn": "2026-02-05", "method": "TRANSFER"}}),
        )
        .await
}

#[tokio::test]
async fn a_private_persons_signed_contract_is_invoiced_and_its_payments_are_published() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let societe = societe_with_settings(&apps, &owner, "Acme SAS", SIREN, VAT).await;
    let client = person(&apps, &owner, Some("marie.durand@example.fr")).await;
    let contract = uuid::Uuid::new_v4();
    let signed = contract_signed(&owner.organisation_id, contract, &client, &societe);
    apps.publish(&signed).await;
    apps.wait_handled(signed.id).await;
    let drafts = owner
        .run(
            "query($c: ID!) { invoices(filter: {contractId: $c}) { nodes { id buyerKind buyerName buyerSiren buyerEmail } } }",
            json!({"c": contract}),
        )
        .await;
    let draft = drafts.data()["invoices"]["nodes"][0].clone();
    assert_eq!(
        (
            &draft["buyerKind"],
            &draft["buyerName"],
            &draft["buyerSiren"],
            &draft["buyerEmail"]
        ),
        (
            &json!("PERSON"),
            &json!("Marie Durand"),
            &Value::Null,
            &json!("marie.durand@example.fr")
        )
    );
    let id = draft["id"].as_str().unwrap().to_owned();
    let issued = issue(&owner, &id, "2026-01-15").await;
    let issued = &issued.data()["issueInvoice"];
    assert_eq!(issued["number"], "FAC2026-000001");
    let xml = issued["facturxXml"].as_str().unwrap();
    assert!(xml.contains("<ram:URIID schemeID=\"EM\">marie.durand@example.fr</ram:URIID>"));
    if let Err(report) = subgraph_finance::domain::facturx::validate(xml) {
        panic!("{report}");
    }

    // Another organisation can neither read nor pay it.
    let intruder = apps.sign_up("intruder@example.fr", "Other").await;
    let hidden = intruder
        .run(
            &format!("query($id: ID!) {{ invoice(id: $id) {{ {INVOICE} }} }}"),
            json!({"id": id}),
        )
        .await;
    assert_eq!(hidden.error_code(), "NOT_FOUND");
    assert_eq!(pay(&intruder, &id, "1").await.error_code(), "NOT_FOUND");
    assert!(apps.recorded("payment.received").await.is_empty());

    // Each payment on the contract's invoice is published, with its share excl. VAT.
    assert_eq!(
        pay(&owner, &id, "20").await.data()["recordPayment"]["status"],
        "PARTIALLY_PAID"
    );
    assert_eq!(
        pay(&owner, &id, "27.98").await.data()["recordPayment"]["status"],
        "PAID"
    );
    let received = apps.recorded("payment.received").await;
    let payloads: Vec<(Value, Value, Value, Value, Value)> = received
        .iter()
        .map(|e| {
            let p = &e["payload"];
            (
                p["contract_id"].clone(),
                p["invoice_id"].clone(),
                p["amount"].clone(),
                p["amount_excl_vat"].clone(),
                p["received_on"].clone(),
            )
        })
        .collect();
    let (c, i) = (json!(contract.to_string()), json!(id));
    assert_eq!(
        payloads,
        vec![
            // 20 × 39.98 / 47.98 = 16.665… → 16.67; the rest of 39.98 is 23.31.
            (
                c.clone(),
                i.clone(),
                json!("20.00"),
                json!("16.67"),
                json!("2026-02-05")
            ),
            (c, i, json!("27.98"), json!("23.31"), json!("2026-02-05")),
        ]
    );
    assert!(received
        .iter()
        .all(|e| e["organisation_id"] == owner.organisation_id.as_str()));
    assert_eq!(apps.recorded("invoice.paid").await.len(), 1);
}

#[tokio::test]
async fn a_person_needs_an_electronic_address_and_a_bad_one_is_refused() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let societe = societe_with_settings(&apps, &owner, "Acme SAS", SIREN, VAT).await;
    let client = person(&apps, &owner, None).await;
    let input = |email: Option<&str>| {
        json!({"societeId": societe, "clientId": client, "buyerEmail": email,
               "lines": [{"description": "Assurance", "quantity": "1", "unitPrice": "10", "vatRate": "20"}]})
    };
    let created = owner
        .run(
            "mutation($input: InvoiceInput!) { createInvoice(input: $input) { id buyerKind } }",
            json!({"input": input(None)}),
        )
        .await;
    assert_eq!(created.data()["createInvoice"]["buyerKind"], "PERSON");
    let id = created.data()["createInvoice"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = issue(&owner, &id, "2026-01-15").await;
    assert_eq!(refused.error_code(), "VALIDATION");
    let fields: Vec<Value> = refused.errors()[0]["extensions"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].clone())
        .collect();
    assert_eq!(fields, vec![json!("buyerEmail")]);
    let update = |email: &'static str| {
        let (owner, id, body) = (owner.clone(), id.clone(), input(Some(email)));
        async move {
            owner
                .run("mutation($id: ID!, $input: InvoiceInput!) { updateInvoice(id: $id, input: $input) { buyerEmail } }", json!({"id": id, "input": body}))
                .await
        }
    };
    assert_eq!(update("not an address").await.error_code(), "VALIDATION");
    assert_eq!(
        update("marie@example.fr").await.data()["updateInvoice"]["buyerEmail"],
        "marie@example.fr"
    );
    let issued = issue(&owner, &id, "2026-01-15").await;
    assert_eq!(issued.data()["issueInvoice"]["number"], "FAC2026-000001");
    if let Err(report) = subgraph_finance::domain::facturx::validate(
        issued.data()["issueInvoice"]["facturxXml"]
            .as_str()
            .unwrap(),
    ) {
        panic!("{report}");
    }
    // An invoice that bills no contract publishes no payment.received: nothing to commission.
    owner
        .run(
            "mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { status } }",
            json!({"input": {"invoiceId": id, "amount": "12", "paidOn": "2026-02-05", "method": "CHEQUE"}}),
        )
        .await
        .data();
    assert!(apps.recorded("payment.received").await.is_empty());
    assert_eq!(apps.recorded("invoice.paid").await.len(), 1);
}
