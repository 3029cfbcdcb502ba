//! Commission scales and the commissions computed from `payment.received`.

use std::time::Duration;

use crm_test_support::{harness::operate, wait_for};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{
    active_product, create_client, draft_contract, payment_received, sign, spawn_apps, Session,
    TestApps,
};

const CREATE_SCALE: &str = "mutation($code: String!, $input: CommissionScaleTermsInput!) { createCommissionScale(code: $code, input: $input) { id code version effectiveFrom effectiveTo tiers { thresholdMin bonus } } }";
const REVISE_SCALE: &str = "mutation($code: String!, $input: CommissionScaleTermsInput!) { reviseCommissionScale(code: $code, input: $input, reason: \"Nouveau taux\") { id version effectiveFrom reason } }";
const COMMISSIONS: &str = "{ commissions { totalCount edges { node { id reference status baseAmount grossAmount bonusAmount netAmount period scaleVersion salesRep { lastName } contract { reference } clawback { reason amount } } } } }";

fn terms(rate: &str, from: &str) -> Value {
    json!({"name": "Standard", "calculation": "MIXED", "base": "PREMIUM_EXCL_VAT", "rate": rate,
           "fixedAmount": "5.00", "effectiveFrom": from,
           "tiers": [{"thresholdMin": "0", "thresholdMax": "99.99", "bonus": "1"},
                     {"thresholdMin": "100", "bonus": "10"}]})
}

/// An organisation with a rep, a scale and a signed contract of 1 × 100 € (20 % VAT).
async fn setup(apps: &TestApps) -> (Session, String, String) {
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let client = create_client(&owner, "Dupont SA").await;
    apps.wait_caught_up().await;
    let product = active_product(&owner, "P1", "100", "20").await;
    let rep = owner
        .run(
            "mutation { createSalesRep(input: {kind: REP, firstName: \"Léa\", lastName: \"Martin\"}) { id } }",
            json!({}),
        )
        .await;
    let rep = rep.data()["createSalesRep"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    owner
        .run(
            CREATE_SCALE,
            json!({"code": "std", "input": terms("12.5", "2026-01-01")}),
        )
        .await
        .data();
    let contract = draft_contract(&owner, "CTR-1", &client, &product, "1", Some(&rep)).await;
    let contract = contract["id"].as_str().unwrap().to_owned();
    sign(&owner, &contract).await.data();
    (owner, contract, rep)
}

#[tokio::test]
async fn a_payment_delivered_twice_yields_exactly_one_commission() {
    let apps = spawn_apps().await;
    let (owner, contract, _) = setup(&apps).await;
    let payment = Uuid::new_v4();
    let event = payment_received(
        &owner.organisation_id,
        payment,
        &contract,
        "120.00",
        "2026-02-10",
    );
    apps.publish(&event).await;
    apps.publish(&event).await; // the same event again (a redelivery)
                                // Another event about the same payment (a replay upstream) changes nothing either.
    let replayed = payment_received(
        &owner.organisation_id,
        payment,
        &contract,
        "120.00",
        "2026-02-10",
    );
    apps.publish(&replayed).await;
    apps.wait_handled(event.id).await;
    apps.wait_handled(replayed.id).await;
    // A later event, published after the repeats, is handled last: when it is there, so
    // are the effects of the repeats.
    let marker = payment_received(
        &owner.organisation_id,
        Uuid::new_v4(),
        &contract,
        "60.00",
        "2026-03-10",
    );
    apps.publish(&marker).await;
    apps.wait_handled(marker.id).await;

    let listed = owner.run(COMMISSIONS, json!({})).await;
    let page = &listed.data()["commissions"];
    assert_eq!(page["totalCount"], 2);
    let first = &page["edges"][1]["node"];
    // Base = 120 × 100/120 = 100.00; gross = 100 × 12.5 % + 5 = 17.50; tier ≥ 100: +10.
    assert_eq!(first["baseAmount"], "100.00");
    assert_eq!(first["grossAmount"], "17.50");
    assert_eq!(first["bonusAmount"], "10.00");
    assert_eq!(first["netAmount"], "27.50");
    assert_eq!(first["period"], "2026-02");
    assert_eq!(first["status"], "CALCULATED");
    assert_eq!(first["salesRep"]["lastName"], "Martin");
    assert_eq!(first["contract"]["reference"], "CTR-1");
    let second = &page["edges"][0]["node"];
    assert_eq!(second["netAmount"], "12.25"); // 50 × 12.5 % + 5 + 1
    let calculated = apps.recorded("commission.calculated").await;
    assert_eq!(calculated.len(), 2);
    assert_eq!(calculated[0]["payload"]["net_amount"], "27.50");
    assert_eq!(calculated[0]["causation_id"], event.id.to_string());
    assert_eq!(
        calculated[0]["organisation_id"],
        owner.organisation_id.as_str()
    );
}

#[tokio::test]
async fn the_version_in_force_on_the_payment_date_is_applied_and_recorded() {
    let apps = spawn_apps().await;
    let (owner, contract, _) = setup(&apps).await;
    let revised = owner
        .run(
            REVISE_SCALE,
            json!({"code": "STD", "input": terms("20", "2026-06-01")}),
        )
        .await;
    assert_eq!(revised.data()["reviseCommissionScale"]["version"], 2);
    let versions = owner
        .run(
            "{ commissionScales(code: \"STD\") { version effectiveFrom effectiveTo } }",
            json!({}),
        )
        .await;
    assert_eq!(
        versions.data()["commissionScales"],
        json!([{"version": 2, "effectiveFrom": "2026-06-01", "effectiveTo": null},
               {"version": 1, "effectiveFrom": "2026-01-01", "effectiveTo": "2026-05-31"}])
    );
    for (day, amount) in [("2026-05-31", "120.00"), ("2026-06-01", "120.00")] {
        let event = payment_received(
            &owner.organisation_id,
            Uuid::new_v4(),
            &contract,
            amount,
            day,
        );
        apps.publish(&event).await;
        apps.wait_handled(event.id).await;
    }
    let rows: Vec<(i32, String)> = sqlx::query_as(
        "select scale_version, net_amount::text from commissions order by period, calculated_at",
    )
    .fetch_all(&apps.db.pool)
    .await
    .unwrap();
    assert_eq!(rows, vec![(1, "27.50".to_owned()), (2, "35.00".to_owned())]);
    let details: Value =
        sqlx::query_scalar("select details from commissions where scale_version = 2")
            .fetch_one(&apps.db.pool)
            .await
            .unwrap();
    assert_eq!(details["scale"]["version"], 2);
    assert_eq!(details["computation"]["gross"], "25.00");
}

#[tokio::test]
async fn bad_scales_are_refused_and_versions_never_overlap() {
    let apps = spawn_apps().await;
    let (owner, _, _) = setup(&apps).await;
    let mut fixed_without_amount = terms("10", "2026-01-01");
    fixed_without_amount["calculation"] = json!("FIXED");
    fixed_without_amount["fixedAmount"] = json!(null);
    let mut rate_too_high = terms("150", "2026-01-01");
    rate_too_high["name"] = json!("X");
    let mut flat_percentage = terms("10", "2026-01-01");
    flat_percentage["base"] = json!("FLAT");
    let mut bad_tier = terms("10", "2026-01-01");
    bad_tier["tiers"] = json!([{"thresholdMin": "100", "thresholdMax": "50", "bonus": "1"}]);
    let cases = [
        (
            "NEW",
            fixed_without_amount,
            "VALIDATION",
            Some("fixedAmount"),
        ),
        ("NEW", rate_too_high, "VALIDATION", Some("rate")),
        ("NEW", flat_percentage, "VALIDATION", Some("base")),
        ("NEW", bad_tier, "VALIDATION", Some("tiers.0.thresholdMax")),
        ("STD", terms("10", "2027-01-01"), "CONFLICT", None),
    ];
    for (code, input, expected, field) in cases {
        let response = owner
            .run(CREATE_SCALE, json!({"code": code, "input": input}))
            .await;
        assert_eq!(response.error_code(), expected, "{code}");
        assert_eq!(response.errors()[0]["extensions"]["field"], json!(field));
    }
    // A revision starting on or before the current version is an overlap.
    let overlap = owner
        .run(
            REVISE_SCALE,
            json!({"code": "STD", "input": terms("20", "2026-01-01")}),
        )
        .await;
    assert_eq!(overlap.error_code(), "CONFLICT");
    let unknown = owner
        .run(
            REVISE_SCALE,
            json!({"code": "NOPE", "input": terms("20", "2027-01-01")}),
        )
        .await;
    assert_eq!(unknown.error_code(), "NOT_FOUND");
    assert_eq!(apps.count("commission_scales").await, 1);
    assert_eq!(apps.count("commission_tiers").await, 2);
}

#[tokio::test]
async fn a_deactivated_scale_no_longer_applies() {
    let apps = spawn_apps().await;
    let (owner, contract, _) = setup(&apps).await;
    let id: Uuid = sqlx::query_scalar("select id from commission_scales")
        .fetch_one(&apps.db.pool)
        .await
        .unwrap();
    let off = owner
        .run(
            "mutation($id: ID!) { setCommissionScaleActive(id: $id, active: false) { active } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(off.data()["setCommissionScaleActive"]["active"], false);
    let read = owner
        .run(
            "query($id: ID!) { commissionScale(id: $id) { code version calculation rate fixedAmount tiers { thresholdMin thresholdMax bonus } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        read.data()["commissionScale"],
        json!({"code": "STD", "version": 1, "calculation": "MIXED", "rate": "12.50", "fixedAmount": "5.00",
               "tiers": [{"thresholdMin": "0.00", "thresholdMax": "99.99", "bonus": "1.00"},
                         {"thresholdMin": "100.00", "thresholdMax": null, "bonus": "10.00"}]})
    );
    let event = payment_received(
        &owner.organisation_id,
        Uuid::new_v4(),
        &contract,
        "120.00",
        "2026-02-10",
    );
    apps.publish(&event).await;
    apps.wait_handled(event.id).await;
    assert_eq!(apps.count("commissions").await, 0);
    assert_eq!(apps.count("dead_letters").await, 1);
}

#[tokio::test]
async fn a_payment_no_scale_applies_to_is_dead_lettered_for_replay() {
    let apps = spawn_apps().await;
    let (owner, contract, _) = setup(&apps).await;
    let event = payment_received(
        &owner.organisation_id,
        Uuid::new_v4(),
        &contract,
        "120.00",
        "2025-06-01",
    );
    apps.publish(&event).await;
    apps.wait_handled(event.id).await;
    let letters = subgraph_kit::consumer::list_dead_letters(&apps.db.pool, "commercial-payments")
        .await
        .unwrap();
    assert_eq!(letters.len(), 1, "{letters:#?}");
    assert!(
        letters[0].error.contains("no commission scale applies"),
        "{}",
        letters[0].error
    );
    assert_eq!(apps.count("commissions").await, 0);
    let metrics = apps.metrics().await;
    assert!(
        metrics.contains(
            "crm_dead_letters{subgraph=\"commercial\",consumer=\"commercial-payments\"} 1"
        ),
        "{metrics}"
    );

    // The operator adds the missing scale, lists the dead letter and has it replayed: the
    // running consumer applies it.
    owner
        .run(
            CREATE_SCALE,
            json!({"code": "old", "input": terms("10", "2025-01-01")}),
        )
        .await
        .data();
    let listed = operate(&apps.db.pool, &["dead-letters", "list"]).await;
    assert!(
        listed.contains(&event.id.to_string()) && listed.contains("commercial-payments"),
        "{listed}"
    );
    let asked = operate(
        &apps.db.pool,
        &["dead-letters", "replay", &event.id.to_string()],
    )
    .await;
    assert_eq!(asked, "1 dead letter(s) to be replayed by their consumer\n");
    wait_for(Duration::from_secs(20), || async {
        (apps.count("commissions").await == 1).then_some(())
    })
    .await
    .expect("the replayed payment gets its commission");
    assert_eq!(
        operate(&apps.db.pool, &["dead-letters", "list"]).await,
        "no dead letters\n"
    );
    let metrics = apps.metrics().await;
    assert!(
        metrics.contains(
            "crm_dead_letters{subgraph=\"commercial\",consumer=\"commercial-payments\"} 0"
        ),
        "{metrics}"
    );
    // Replayed once: a second request finds nothing open.
    let again = operate(&apps.db.pool, &["dead-letters", "replay", "--all"]).await;
    assert_eq!(again, "0 dead letter(s) to be replayed by their consumer\n");
}

#[tokio::test]
async fn commissions_are_validated_paid_or_cancelled_in_order() {
    let apps = spawn_apps().await;
    let (owner, contract, _) = setup(&apps).await;
    let member = apps.join(&owner, "member@example.fr", "MEMBER").await;
    let event = payment_received(
        &owner.organisation_id,
        Uuid::new_v4(),
        &contract,
        "120.00",
        "2026-02-10",
    );
    apps.publish(&event).await;
    apps.wait_handled(event.id).await;
    let id: Uuid = sqlx::query_scalar("select id from commissions")
        .fetch_one(&apps.db.pool)
        .await
        .unwrap();
    let act = |session: Session, mutation: &'static str| async move {
        session
            .run(
                &format!("mutation($id: ID!) {{ {mutation}(id: $id) {{ status }} }}"),
                json!({"id": id}),
            )
            .await
    };
    assert_eq!(
        act(member.clone(), "validateCommission").await.error_code(),
        "FORBIDDEN"
    );
    assert_eq!(
        act(owner.clone(), "markCommissionPaid").await.error_code(),
        "INVALID_TRANSITION"
    );
    assert_eq!(
        act(owner.clone(), "validateCommission").await.data()["validateCommission"]["status"],
        "VALIDATED"
    );
    assert_eq!(
        act(owner.clone(), "markCommissionPaid").await.data()["markCommissionPaid"]["status"],
        "PAID"
    );
    assert_eq!(
        act(owner.clone(), "cancelCommission").await.error_code(),
        "INVALID_TRANSITION"
    );
    let by_period = owner
        .run(
            "{ commissions(filter: {period: \"2026-02\", status: PAID}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(by_period.data()["commissions"]["totalCount"], 1);
    let bad_period = owner
        .run(
            "{ commissions(filter: {period: \"2026-13\"}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(bad_period.error_code(), "VALIDATION");
}

#[tokio::test]
async fn termination_and_final_rejection_claw_commissions_back_within_the_window() {
    let apps = spawn_apps().await;
    let (owner, contract, _) = setup(&apps).await;
    let rejected_payment = Uuid::new_v4();
    for payment in [rejected_payment, Uuid::new_v4()] {
        let event = payment_received(
            &owner.organisation_id,
            payment,
            &contract,
            "120.00",
            "2026-02-10",
        );
        apps.publish(&event).await;
        apps.wait_handled(event.id).await;
    }
    // A rejection that will be retried changes nothing; a final one claws back.
    for is_final in [false, true] {
        let rejected = crm_events::finance::PaymentRejected {
            payment_id: rejected_payment,
            is_final,
            rejected_on: chrono::Utc::now().date_naive(),
        };
        let rejection = subgraph_kit::events::Envelope::of(
            &rejected,
            Uuid::parse_str(&owner.organisation_id).unwrap(),
            None,
        )
        .unwrap();
        apps.publish(&rejection).await;
        apps.wait_handled(rejection.id).await;
        let clawbacks = apps.count("commission_clawbacks").await;
        assert_eq!(clawbacks, i64::from(is_final));
    }
    owner
        .run(
            "mutation($id: ID!) { activateContract(id: $id) { status } }",
            json!({"id": contract}),
        )
        .await
        .data();
    owner
        .run(
            "mutation($id: ID!) { terminateContract(id: $id, reason: \"Résiliation\") { status } }",
            json!({"id": contract}),
        )
        .await
        .data();
    let listed = owner.run(COMMISSIONS, json!({})).await;
    let mut reasons: Vec<(String, String)> = listed.data()["commissions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let c = &e["node"]["clawback"];
            (
                c["reason"].as_str().unwrap().to_owned(),
                c["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    reasons.sort();
    assert_eq!(
        reasons,
        vec![
            ("PAYMENT_REJECTED".to_owned(), "27.50".to_owned()),
            ("TERMINATION".to_owned(), "27.50".to_owned())
        ]
    );
}
