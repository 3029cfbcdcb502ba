//! The FEC export of a period matches the golden file.

use serde_json::json;

use crate::helpers::{company, draft, issue, societe_with_settings, spawn_apps};

#[tokio::test]
async fn the_fec_of_a_period_matches_the_golden_file() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let societe =
        societe_with_settings(&apps, &owner, "Acme SAS", "732829320", "FR44732829320").await;
    let client = company(&apps, &owner, "Dupont SA", "552100554").await;
    for day in ["2026-01-15", "2026-01-20"] {
        let d = draft(&owner, &societe, &client).await;
        issue(&owner, d["id"].as_str().unwrap(), day).await.data();
    }
    // Outside the period: not exported.
    let later = draft(&owner, &societe, &client).await;
    issue(&owner, later["id"].as_str().unwrap(), "2026-02-01")
        .await
        .data();
    let first: String =
        sqlx::query_scalar("select id::text from invoices where number = 'FAC2026-000001'")
            .fetch_one(&apps.db.pool)
            .await
            .unwrap();
    owner
        .run(
            "mutation($id: ID!, $lines: [InvoiceLineInput!]) { createCreditNote(invoiceId: $id, lines: $lines, reason: \"Geste\") { number } }",
            json!({"id": first, "lines": [{"description": "Geste", "quantity": "1", "unitPrice": "10", "vatRate": "20"}]}),
        )
        .await
        .data();
    // The credit note is issued today; date it in the period so the golden file is stable.
    sqlx::query("update invoices set issue_date = '2026-01-31' where kind = 'CREDIT_NOTE'")
        .execute(&apps.db.pool)
        .await
        .unwrap();
    let exported = owner
        .run(
            "query($s: ID!) { fecExport(societeId: $s, from: \"2026-01-01\", to: \"2026-01-31\") { fileName content } }",
            json!({"s": societe}),
        )
        .await;
    let file = &exported.data()["fecExport"];
    assert_eq!(file["fileName"], "732829320FEC20260131.txt");
    let golden =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/golden/fec-2026-01.txt");
    let content = file["content"].as_str().unwrap();
    if std::env::var("UPDATE_GOLDEN").is_ok() {
        std::fs::write(&golden, content).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap();
    assert_eq!(
        content,
        expected,
        "the FEC differs from {}",
        golden.display()
    );
}
