//! Read-your-writes across subgraphs: a client and a société created in core are usable in
//! commercial and finance in the very next request, before core's events have arrived there
//! (the directory projections read through to core on a miss).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use crm_e2e::harness::Stack;
use serde_json::json;
use subgraph_kit::identifiers::{french_vat_key, Siren};

/// The `n`-th valid SIREN of a test range (8 digits and a Luhn key).
fn siren(n: u32) -> String {
    let body = format!("{:08}", 10_000_000 + n);
    (0..10)
        .map(|key| format!("{body}{key}"))
        .find(|candidate| Siren::parse("siren", candidate).is_ok())
        .unwrap()
}

#[tokio::test]
async fn a_client_and_a_societe_created_in_core_are_usable_at_once_in_commercial_and_finance() {
    let stack = Stack::start().await;
    let (owner, _) = stack.sign_up("owner@example.fr", "Acme").await;
    for i in 0..100 {
        let siren = siren(i);
        let vat = format!(
            "FR{:02}{siren}",
            french_vat_key(&Siren::parse("siren", &siren).unwrap())
        );
        let created = owner
            .run(
                "mutation($client: CreateClientInput!, $societe: SocieteInputObject!) {
                    createClient(input: $client) { id } createSociete(input: $societe) { id } }",
                json!({"client": {"kind": "COMPANY", "name": format!("Client {i}")},
                       "societe": {"name": format!("Société {i}"), "siren": siren}}),
            )
            .await;
        let client = created.data()["createClient"]["id"].clone();
        let societe = created.data()["createSociete"]["id"].clone();
        let used = owner
            .run(
                "mutation($contract: CreateContractInput!, $societe: ID!, $settings: InvoiceSettingsInput!, $invoice: InvoiceInput!) {
                    createContract(input: $contract) { id }
                    setInvoiceSettings(societeId: $societe, input: $settings) { siren }
                    createInvoice(input: $invoice) { id } }",
                json!({
                    "contract": {"reference": format!("CTR-{i}"), "title": "Contrat", "clientId": client,
                                 "societeId": societe, "startDate": "2026-01-01", "billingFrequency": "MONTHLY"},
                    "societe": societe,
                    "settings": {"legalName": format!("Société {i}"), "legalForm": "SAS", "shareCapital": "1000",
                                 "siren": siren, "vatNumber": vat, "rcs": format!("RCS Paris {siren}"),
                                 "addressLine1": "1 rue de la Paix", "postalCode": "75002", "city": "Paris"},
                    "invoice": {"societeId": societe, "clientId": client},
                }),
            )
            .await;
        assert!(
            used.errors().is_empty(),
            "attempt {i}: refused in the next request: {}",
            used.body
        );
        assert_eq!(used.data()["setInvoiceSettings"]["siren"], siren.as_str());
    }
}
