//! Numbers under concurrency: every series is exactly 1..N, whatever the number of issuers.

use futures::{stream, StreamExt};
use rust_decimal::Decimal;
use serde_json::json;
use subgraph_finance::{
    db::invoice::{insert_draft, replace_lines, DraftFields, LineFields},
    domain::invoice::{BuyerKind, InvoiceKind, LineAmounts, OperationNature},
};
use subgraph_kit::money::VatRate;
use uuid::Uuid;

use crate::helpers::{company, societe_with_settings, spawn_apps};

const PER_SOCIETE: usize = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousands_of_parallel_issues_leave_every_series_without_gap_or_duplicate() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let societes = [
        societe_with_settings(&apps, &owner, "Acme Nord", "732829320", "FR44732829320").await,
        societe_with_settings(&apps, &owner, "Acme Sud", "552100554", "FR96552100554").await,
    ];
    let client = Uuid::parse_str(&company(&apps, &owner, "Dupont SA", "443061841").await).unwrap();
    let org = Uuid::parse_str(&owner.organisation_id).unwrap();
    let user = Uuid::parse_str(&owner.user_id).unwrap();
    // Drafts are written directly (their creation is not what is under test).
    let mut drafts = Vec::new();
    let rate = VatRate::parse("vatRate", Decimal::from(20)).unwrap();
    let line = LineFields {
        product_reference: None,
        description: "Abonnement".into(),
        quantity: Decimal::ONE,
        unit_code: "C62".into(),
        unit_price: Decimal::from(10),
        discount: Decimal::ZERO,
        vat_category: "S",
        vat_rate: rate.percent(),
        totals: LineAmounts {
            quantity: Decimal::ONE,
            unit_price: Decimal::from(10),
            discount: Decimal::ZERO,
            vat_rate: rate,
        }
        .totals(),
    };
    let mut tx = apps.db.pool.begin().await.unwrap();
    for i in 0..PER_SOCIETE * 2 {
        let fields = DraftFields {
            societe_id: Uuid::parse_str(&societes[i % 2]).unwrap(),
            client_id: client,
            contract_id: None,
            delivery_date: None,
            payment_terms_days: 30,
            late_payment_rate: Decimal::new(135, 1),
            nature: OperationNature::Services,
            buyer_kind: BuyerKind::Company,
            buyer_email: None,
            buyer_name: "Dupont SA".into(),
            buyer_siren: Some("443061841".into()),
            buyer_vat_number: None,
            buyer_address_line1: Some("2 avenue Foch".into()),
            buyer_address_line2: None,
            buyer_postal_code: Some("69006".into()),
            buyer_city: Some("Lyon".into()),
            buyer_country: "FR".into(),
            delivery_address: None,
            notes: None,
        };
        let draft = insert_draft(
            &mut *tx,
            org,
            InvoiceKind::Invoice,
            None,
            None,
            user,
            &fields,
        )
        .await
        .unwrap()
        .unwrap();
        replace_lines(
            &mut tx,
            org,
            draft.id,
            std::slice::from_ref(&line),
            line.totals,
        )
        .await
        .unwrap();
        drafts.push(draft.id);
    }
    tx.commit().await.unwrap();

    let failures: Vec<String> = stream::iter(drafts)
        .map(|id| {
            let owner = owner.clone();
            async move {
                let response = owner
                    .run(
                        "mutation($id: ID!) { issueInvoice(id: $id) { number } }",
                        json!({"id": id}),
                    )
                    .await;
                response.errors().first().map(|e| e.to_string())
            }
        })
        .buffer_unordered(24)
        .filter_map(|failure| async move { failure })
        .collect()
        .await;
    assert!(
        failures.is_empty(),
        "{} issues failed, first: {:?}",
        failures.len(),
        failures.first()
    );

    for societe in &societes {
        let sequences: Vec<i64> = sqlx::query_scalar(
            "select sequence from invoices where societe_id = $1::uuid and status = 'ISSUED' order by sequence",
        )
        .bind(societe)
        .fetch_all(&apps.db.pool)
        .await
        .unwrap();
        let expected: Vec<i64> = (1..=i64::try_from(PER_SOCIETE).unwrap()).collect();
        assert_eq!(
            sequences, expected,
            "the series of {societe} has gaps or duplicates"
        );
    }
    let distinct: i64 =
        sqlx::query_scalar("select count(distinct (societe_id, number)) from invoices")
            .fetch_one(&apps.db.pool)
            .await
            .unwrap();
    assert_eq!(distinct, i64::try_from(PER_SOCIETE * 2).unwrap());
}
