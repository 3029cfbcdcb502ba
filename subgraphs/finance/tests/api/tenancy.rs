//! Another organisation neither sees nor changes anything of this one's.

use serde_json::{json, Value};

use crate::helpers::{
    company, draft, draft_input, issue, societe_with_settings, spawn_apps, TestApps,
};

async fn snapshot(apps: &TestApps) -> String {
    let mut all = String::new();
    for table in [
        "invoice_settings",
        "invoices",
        "invoice_lines",
        "invoice_counters",
        "invoice_payments",
        "outbox",
    ] {
        let rows: Option<String> = sqlx::query_scalar(&format!(
            "select string_agg(t::text, '\n' order by t::text) from {table} t"
        ))
        .fetch_one(&apps.db.pool)
        .await
        .unwrap();
        all.push_str(&rows.unwrap_or_default());
    }
    all
}

#[tokio::test]
async fn another_organisation_neither_sees_nor_changes_anything() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let societe =
        societe_with_settings(&apps, &owner, "Acme SAS", "732829320", "FR44732829320").await;
    let client = company(&apps, &owner, "Dupont SA", "552100554").await;
    let issued = draft(&owner, &societe, &client).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    issue(&owner, &issued, "2026-01-15").await.data();
    let open = draft(&owner, &societe, &client).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let intruder = apps.sign_up("intruder@example.fr", "Other").await;
    let own_societe =
        societe_with_settings(&apps, &intruder, "Other SAS", "443061841", "FR64443061841").await;
    let own_client = company(&apps, &intruder, "Mine", "552100554").await;
    let before = snapshot(&apps).await;

    let not_found: Vec<(&str, Value)> = vec![
        ("query($id: ID!) { invoice(id: $id) { id } }", json!({"id": issued})),
        ("mutation($id: ID!, $input: InvoiceInput!) { updateInvoice(id: $id, input: $input) { id } }", json!({"id": open, "input": draft_input(&own_societe, &own_client)})),
        ("mutation($id: ID!) { deleteInvoice(id: $id) }", json!({"id": open})),
        ("mutation($s: ID!) { setInvoiceLogo(societeId: $s, logoBase64: null) { siren } }", json!({"s": societe})),
        ("mutation($id: ID!) { issueInvoice(id: $id) { id } }", json!({"id": open})),
        ("mutation($id: ID!) { createCreditNote(invoiceId: $id, reason: \"x\") { id } }", json!({"id": issued})),
        ("mutation($id: ID!) { recordPayment(input: {invoiceId: $id, amount: \"1\", paidOn: \"2026-01-20\", method: CASH}) { id } }", json!({"id": issued})),
        ("query($s: ID!) { fecExport(societeId: $s, from: \"2026-01-01\", to: \"2026-12-31\") { content } }", json!({"s": societe})),
    ];
    for (query, variables) in not_found {
        let response = intruder.run(query, variables).await;
        assert_eq!(response.error_code(), "NOT_FOUND", "{query}");
    }
    let invalid: Vec<(&str, Value, &str)> = vec![
        ("mutation($input: InvoiceInput!) { createInvoice(input: $input) { id } }", json!({"input": draft_input(&societe, &own_client)}), "societeId"),
        ("mutation($input: InvoiceInput!) { createInvoice(input: $input) { id } }", json!({"input": draft_input(&own_societe, &client)}), "clientId"),
        (
            "mutation($s: ID!) { setInvoiceSettings(societeId: $s, input: {legalName: \"X\", legalForm: \"SAS\", shareCapital: \"1\", siren: \"443061841\", vatNumber: \"FR64443061841\", rcs: \"R\", addressLine1: \"A\", postalCode: \"1\", city: \"C\"}) { siren } }",
            json!({"s": societe}),
            "societeId",
        ),
    ];
    for (query, variables, field) in invalid {
        let response = intruder.run(query, variables).await;
        assert_eq!(response.error_code(), "VALIDATION", "{query}");
        assert_eq!(response.errors()[0]["extensions"]["field"], field);
    }
    let seen = intruder
        .run(
            "query($s: ID!, $r: [_Any!]!) { invoices { totalCount } invoiceSettings(societeId: $s) { siren } _entities(representations: $r) { ... on Invoice { number } ... on Client { invoices { totalCount nodes { id } } } ... on Contract { invoices { totalCount nodes { id } } } } }",
            json!({"s": societe, "r": [{"__typename": "Invoice", "id": issued}, {"__typename": "Client", "id": client}]}),
        )
        .await;
    assert_eq!(
        seen.data(),
        &json!({"invoices": {"totalCount": 0}, "invoiceSettings": null, "_entities": [null, {"invoices": {"totalCount": 0, "nodes": []}}]})
    );
    assert_eq!(snapshot(&apps).await, before);
}
