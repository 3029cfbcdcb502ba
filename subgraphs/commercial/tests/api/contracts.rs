//! Contracts: drafts with lines, guarded transitions with history and events, expiry.

use chrono::NaiveDate;
use serde_json::json;

use crate::helpers::{active_product, create_client, draft_contract, sign, spawn_apps, CONTRACT};

const CREATE: &str =
    "mutation($input: CreateContractInput!) { createContract(input: $input) { id } }";

#[tokio::test]
async fn a_draft_is_priced_from_the_catalogue_and_its_totals_follow_its_lines() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let client = create_client(&owner, "Dupont SA").await;
    apps.wait_caught_up().await;
    let product = active_product(&owner, "P1", "19.99", "20").await;
    let other = active_product(&owner, "P2", "100", "5.5").await;
    let contract = draft_contract(&owner, "CTR-1", &client, &product, "3", None).await;
    assert_eq!(contract["status"], "DRAFT");
    assert_eq!(contract["lines"][0]["unitPrice"], "19.99");
    assert_eq!(contract["totalExclVat"], "59.97");
    assert_eq!(contract["totalVat"], "11.99");
    assert_eq!(contract["totalInclVat"], "71.96");
    let id = contract["id"].as_str().unwrap();

    let added = owner
        .run(
            &format!("mutation($id: ID!, $input: ContractLineInput!) {{ addContractLine(contractId: $id, input: $input) {{ {CONTRACT} }} }}"),
            json!({"id": id, "input": {"productId": other, "quantity": "1.5", "unitPrice": "80.01"}}),
        )
        .await;
    let contract = &added.data()["addContractLine"];
    assert_eq!(contract["lines"][1]["totalExclVat"], "120.02"); // 120.015
    assert_eq!(contract["totalExclVat"], "179.99");
    assert_eq!(contract["totalVat"], "18.59"); // 11.99 + 6.60
    let line = contract["lines"][0]["id"].as_str().unwrap();
    let changed = owner
        .run(
            &format!("mutation($id: ID!, $input: ContractLineInput!) {{ updateContractLine(id: $id, input: $input) {{ {CONTRACT} }} }}"),
            json!({"id": line, "input": {"productId": product, "quantity": "1"}}),
        )
        .await;
    assert_eq!(
        changed.data()["updateContractLine"]["totalExclVat"],
        "140.01"
    );
    let removed = owner
        .run(
            &format!("mutation($id: ID!) {{ removeContractLine(id: $id) {{ {CONTRACT} }} }}"),
            json!({"id": line}),
        )
        .await;
    assert_eq!(
        removed.data()["removeContractLine"]["totalExclVat"],
        "120.02"
    );
    let updated = owner
        .run(
            "mutation($id: ID!, $input: ContractInput!) { updateContract(id: $id, input: $input) { title endDate } }",
            json!({"id": id, "input": {"reference": "CTR-1", "title": "Nouveau titre", "clientId": client,
                    "startDate": "2026-01-01", "endDate": "2026-12-31", "billingFrequency": "ANNUAL"}}),
        )
        .await;
    assert_eq!(updated.data()["updateContract"]["title"], "Nouveau titre");
    let deleted = owner
        .run(
            "mutation($id: ID!) { deleteContract(id: $id) }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(deleted.data()["deleteContract"], id);
    assert_eq!(apps.count("contracts").await, 0);
    assert_eq!(apps.count("contract_lines").await, 0);
}

#[tokio::test]
async fn bad_contracts_are_refused_and_nothing_is_written() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let client = create_client(&owner, "Dupont SA").await;
    apps.wait_caught_up().await;
    let product = active_product(&owner, "P1", "10", "20").await;
    let retired = active_product(&owner, "OLD", "10", "20").await;
    owner
        .run(
            "mutation($id: ID!) { changeProductStatus(id: $id, status: RETIRED) { status } }",
            json!({"id": retired}),
        )
        .await
        .data();
    draft_contract(&owner, "CTR-1", &client, &product, "1", None).await;
    let base = json!({"reference": "CTR-2", "title": "T", "clientId": client, "startDate": "2026-01-01",
                      "billingFrequency": "MONTHLY", "lines": [{"productId": product, "quantity": "1"}]});
    let with = |patch: serde_json::Value| {
        let mut input = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            input[k] = v.clone();
        }
        json!({"input": input})
    };
    let cases = [
        (json!({"reference": "CTR-1"}), "CONFLICT", None),
        (
            json!({"clientId": uuid::Uuid::new_v4()}),
            "VALIDATION",
            Some("clientId"),
        ),
        (
            json!({"societeId": uuid::Uuid::new_v4()}),
            "VALIDATION",
            Some("societeId"),
        ),
        (
            json!({"salesRepId": uuid::Uuid::new_v4()}),
            "VALIDATION",
            Some("salesRepId"),
        ),
        (json!({"title": "  "}), "VALIDATION", Some("title")),
        (
            json!({"endDate": "2025-12-31"}),
            "VALIDATION",
            Some("endDate"),
        ),
        (
            json!({"lines": [{"productId": retired, "quantity": "1"}]}),
            "VALIDATION",
            Some("lines.0.productId"),
        ),
        (
            json!({"lines": [{"productId": product, "quantity": "-2"}]}),
            "VALIDATION",
            Some("lines.0.quantity"),
        ),
        (
            json!({"lines": [{"productId": product, "quantity": "1", "unitPrice": "-5"}]}),
            "VALIDATION",
            Some("lines.0.unitPrice"),
        ),
        (
            json!({"lines": [{"productId": product, "quantity": "1", "vatRate": "7"}]}),
            "VALIDATION",
            Some("lines.0.vatRate"),
        ),
    ];
    for (patch, code, field) in cases {
        let response = owner.run(CREATE, with(patch.clone())).await;
        assert_eq!(response.error_code(), code, "{patch}");
        if let Some(field) = field {
            assert_eq!(
                response.errors()[0]["extensions"]["field"],
                field,
                "{patch}"
            );
        }
    }
    assert_eq!(apps.count("contracts").await, 1);
    assert_eq!(apps.count("contract_lines").await, 1);
}

#[tokio::test]
async fn signing_needs_a_line_and_publishes_the_contract_with_its_organisation() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let client = create_client(&owner, "Dupont SA").await;
    apps.wait_caught_up().await;
    let product = active_product(&owner, "P1", "10", "20").await;
    let empty = owner
        .run(
            CREATE,
            json!({"input": {"reference": "EMPTY", "title": "T", "clientId": client, "startDate": "2026-01-01", "billingFrequency": "MONTHLY"}}),
        )
        .await;
    let empty_id = empty.data()["createContract"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = sign(&owner, &empty_id).await;
    assert_eq!(refused.error_code(), "VALIDATION");
    assert_eq!(refused.errors()[0]["extensions"]["field"], "lines");
    let future = owner
        .run(
            "mutation($id: ID!) { signContract(id: $id, signatureDate: \"2999-01-01\") { id } }",
            json!({"id": empty_id}),
        )
        .await;
    assert_eq!(future.error_code(), "VALIDATION");
    assert!(apps.recorded("contract.signed").await.is_empty());

    let contract = draft_contract(&owner, "CTR-1", &client, &product, "2", None).await;
    let id = contract["id"].as_str().unwrap();
    let signed = sign(&owner, id).await;
    let signed = &signed.data()["signContract"];
    assert_eq!(signed["status"], "SIGNED");
    assert_eq!(signed["signatureDate"], "2026-01-15");
    let events = apps.recorded("contract.signed").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["organisation_id"], owner.organisation_id.as_str());
    assert_eq!(
        events[0]["payload"]["contract"]["client_id"],
        client.as_str()
    );
    assert_eq!(events[0]["payload"]["contract"]["total_incl_vat"], "24.00");
    assert_eq!(events[0]["payload"]["lines"][0]["quantity"], "2.000");
    let changes = apps.recorded("contract.status_changed").await;
    assert_eq!(changes[0]["payload"]["previous"], "DRAFT");
    assert_eq!(changes[0]["payload"]["new"], "SIGNED");

    // A signed contract is no longer edited.
    let edit = owner
        .run(
            "mutation($id: ID!, $input: ContractLineInput!) { addContractLine(contractId: $id, input: $input) { id } }",
            json!({"id": id, "input": {"productId": product, "quantity": "1"}}),
        )
        .await;
    assert_eq!(edit.error_code(), "INVALID_TRANSITION");
    let delete = owner
        .run(
            "mutation($id: ID!) { deleteContract(id: $id) }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(delete.error_code(), "INVALID_TRANSITION");
}

#[tokio::test]
async fn every_transition_is_guarded_and_written_to_the_history() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let client = create_client(&owner, "Dupont SA").await;
    apps.wait_caught_up().await;
    let product = active_product(&owner, "P1", "10", "20").await;
    let contract = draft_contract(&owner, "CTR-1", &client, &product, "1", None).await;
    let id = contract["id"].as_str().unwrap();
    let act = |mutation: &'static str, reason: Option<&'static str>| {
        let owner = owner.clone();
        let id = id.to_owned();
        async move {
            let args = match reason {
                Some(r) => format!("(id: $id, reason: \"{r}\")"),
                None => "(id: $id)".to_owned(),
            };
            owner
                .run(
                    &format!("mutation($id: ID!) {{ {mutation}{args} {{ status }} }}"),
                    json!({"id": id}),
                )
                .await
        }
    };
    assert_eq!(
        act("activateContract", None).await.error_code(),
        "INVALID_TRANSITION"
    );
    sign(&owner, id).await.data();
    assert_eq!(
        act("activateContract", None).await.data()["activateContract"]["status"],
        "ACTIVE"
    );
    assert_eq!(
        act("suspendContract", Some(" ")).await.error_code(),
        "VALIDATION"
    );
    assert_eq!(
        act("suspendContract", Some("Impayé")).await.data()["suspendContract"]["status"],
        "SUSPENDED"
    );
    assert_eq!(
        act("activateContract", Some("Régularisé")).await.data()["activateContract"]["status"],
        "ACTIVE"
    );
    assert_eq!(
        act("cancelContract", Some("Erreur")).await.error_code(),
        "INVALID_TRANSITION"
    );
    assert_eq!(
        act("terminateContract", Some("Résiliation")).await.data()["terminateContract"]["status"],
        "TERMINATED"
    );
    assert_eq!(
        act("activateContract", None).await.error_code(),
        "INVALID_TRANSITION"
    );

    let history = owner
        .run(
            "query($id: ID!) { contract(id: $id) { nextStatuses statusHistory { fromStatus toStatus reason changedBy } } }",
            json!({"id": id}),
        )
        .await;
    let contract = &history.data()["contract"];
    assert_eq!(contract["nextStatuses"], json!([]));
    let steps: Vec<(String, String)> = contract["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["fromStatus"].as_str().unwrap_or("-").to_owned(),
                h["toStatus"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("-", "DRAFT"),
        ("DRAFT", "SIGNED"),
        ("SIGNED", "ACTIVE"),
        ("ACTIVE", "SUSPENDED"),
        ("SUSPENDED", "ACTIVE"),
        ("ACTIVE", "TERMINATED"),
    ];
    assert_eq!(steps, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
    assert_eq!(contract["statusHistory"][3]["reason"], "Impayé");
    assert_eq!(
        contract["statusHistory"][3]["changedBy"],
        owner.user_id.as_str()
    );
    assert_eq!(apps.recorded("contract.status_changed").await.len(), 5);

    let draft = draft_contract(&owner, "CTR-2", &client, &product, "1", None).await;
    let cancelled = owner
        .run(
            "mutation($id: ID!) { cancelContract(id: $id, reason: \"Abandon\") { status } }",
            json!({"id": draft["id"]}),
        )
        .await;
    assert_eq!(cancelled.data()["cancelContract"]["status"], "CANCELLED");
}

#[tokio::test]
async fn the_expiry_job_expires_running_contracts_past_their_end_date() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let client = create_client(&owner, "Dupont SA").await;
    apps.wait_caught_up().await;
    let product = active_product(&owner, "P1", "10", "20").await;
    let mut ids = Vec::new();
    for (reference, end) in [("ENDED", "2026-03-31"), ("RUNNING", "2026-12-31")] {
        let created = owner
            .run(
                CREATE,
                json!({"input": {"reference": reference, "title": "T", "clientId": client, "startDate": "2026-01-01",
                       "endDate": end, "billingFrequency": "MONTHLY", "lines": [{"productId": product, "quantity": "1"}]}}),
            )
            .await;
        let id = created.data()["createContract"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        sign(&owner, &id).await.data();
        ids.push(id);
    }
    let draft = draft_contract(&owner, "DRAFT", &client, &product, "1", None).await;
    let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
    let expired = subgraph_commercial::ops::contract::expire_contracts(&apps.db.pool, today)
        .await
        .unwrap();
    assert_eq!(expired, 1);
    let status = |id: String| {
        let owner = owner.clone();
        async move {
            owner
                .run("query($id: ID!) { contract(id: $id) { status statusHistory { changedBy reason } } }", json!({"id": id}))
                .await
                .data()["contract"]
                .clone()
        }
    };
    let ended = status(ids[0].clone()).await;
    assert_eq!(ended["status"], "EXPIRED");
    assert_eq!(
        ended["statusHistory"][2],
        json!({"changedBy": null, "reason": "end date passed"})
    );
    assert_eq!(status(ids[1].clone()).await["status"], "SIGNED");
    assert_eq!(
        status(draft["id"].as_str().unwrap().to_owned()).await["status"],
        "DRAFT"
    );
    // Running it again finds nothing more to do.
    assert_eq!(
        subgraph_commercial::ops::contract::expire_contracts(&apps.db.pool, today)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn contracts_are_listed_newest_first_and_filtered() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let dupont = create_client(&owner, "Dupont SA").await;
    let martin = create_client(&owner, "Martin SARL").await;
    apps.wait_caught_up().await;
    let product = active_product(&owner, "P1", "10", "20").await;
    for (reference, client) in [("A-1", &dupont), ("A-2", &martin), ("B-1", &dupont)] {
        draft_contract(&owner, reference, client, &product, "1", None).await;
    }
    let query = "query($f: ContractFilterInput, $after: String) { contracts(first: 2, after: $after, filter: $f) { totalCount pageInfo { endCursor } edges { node { reference } } } }";
    let all = owner.run(query, json!({})).await;
    assert_eq!(all.data()["contracts"]["totalCount"], 3);
    assert_eq!(
        all.data()["contracts"]["edges"][0]["node"]["reference"],
        "B-1"
    );
    let rest = owner
        .run(
            query,
            json!({"after": all.data()["contracts"]["pageInfo"]["endCursor"]}),
        )
        .await;
    assert_eq!(
        rest.data()["contracts"]["edges"],
        json!([{"node": {"reference": "A-1"}}])
    );
    let of_dupont = owner.run(query, json!({"f": {"clientId": dupont}})).await;
    assert_eq!(of_dupont.data()["contracts"]["totalCount"], 2);
    let searched = owner.run(query, json!({"f": {"search": "a-"}})).await;
    assert_eq!(searched.data()["contracts"]["totalCount"], 2);
    let by_reference = owner
        .run(
            "{ contractByReference(reference: \"A-2\") { reference } }",
            json!({}),
        )
        .await;
    assert_eq!(
        by_reference.data()["contractByReference"]["reference"],
        "A-2"
    );
    let client_contracts = owner
        .run(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Client { contracts { nodes { reference lines { product { sku } } } } } } }",
            json!({"r": [{"__typename": "Client", "id": dupont}]}),
        )
        .await;
    assert_eq!(
        client_contracts.data()["_entities"][0]["contracts"]["nodes"],
        json!([{"reference": "B-1", "lines": [{"product": {"sku": "P1"}}]}, {"reference": "A-1", "lines": [{"product": {"sku": "P1"}}]}])
    );
}

#[tokio::test]
async fn a_contract_stays_within_what_its_events_can_carry() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let client = create_client(&owner, "Dupont SA").await;
    apps.wait_caught_up().await;
    let product = active_product(&owner, "P1", "10", "20").await;
    // Each line's description is 2,000 characters of 3 bytes: 100 lines make a 600 kB event.
    let line = json!({"productId": product, "quantity": "1", "description": "€".repeat(2000)});
    let create = |reference: &str, lines: usize| {
        json!({"input": {
            "reference": reference, "title": "T", "clientId": client,
            "startDate": "2026-01-01", "billingFrequency": "MONTHLY",
            "lines": vec![line.clone(); lines],
        }})
    };
    let refused = owner.run(CREATE, create("TOO-MANY", 101)).await;
    assert_eq!(refused.error_code(), "VALIDATION");
    assert_eq!(refused.errors()[0]["extensions"]["field"], "lines");

    let created = owner.run(CREATE, create("HEAVY", 100)).await;
    let id = created.data()["createContract"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let added = owner
        .run(
            "mutation($id: ID!, $input: ContractLineInput!) { addContractLine(contractId: $id, input: $input) { id } }",
            json!({"id": id, "input": {"productId": product, "quantity": "1"}}),
        )
        .await;
    assert_eq!(added.error_code(), "VALIDATION", "a 101st line is refused");

    let signed = sign(&owner, &id).await;
    assert_eq!(signed.error_code(), "VALIDATION");
    assert!(
        signed.errors()[0]["message"]
            .as_str()
            .unwrap()
            .contains("too large"),
        "{:?}",
        signed.errors()
    );
    assert!(apps.recorded("contract.signed").await.is_empty());
    let status = owner
        .run(
            "query($id: ID!) { contract(id: $id) { status lines { id } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        status.data()["contract"]["status"],
        "DRAFT",
        "nothing changed"
    );
    assert_eq!(
        status.data()["contract"]["lines"].as_array().unwrap().len(),
        100
    );
}
