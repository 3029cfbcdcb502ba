//! Another organisation neither sees nor changes anything of this one's, through any query,
//! mutation, entity reference or event.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{
    active_product, create_client, draft_contract, payment_received, sign, spawn_apps, TestApps,
};

/// Every row of every commercial table, as one text: to show nothing changed.
async fn snapshot(apps: &TestApps) -> String {
    let mut all = String::new();
    for table in [
        "product_ranges",
        "products",
        "price_grids",
        "grid_prices",
        "contracts",
        "contract_lines",
        "contract_status_history",
        "sales_reps",
        "commission_scales",
        "commission_tiers",
        "commissions",
        "commission_clawbacks",
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
    let member = apps.join(&owner, "rep@example.fr", "MEMBER").await;
    let client = create_client(&owner, "Dupont SA").await;
    apps.wait_caught_up().await;
    let product = active_product(&owner, "P1", "100", "20").await;
    let range = owner
        .run(
            "mutation { createProductRange(input: {name: \"R\"}) { id } }",
            json!({}),
        )
        .await;
    let range = range.data()["createProductRange"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let grid = owner
        .run(
            "mutation { createPriceGrid(input: {name: \"G\"}) { id } }",
            json!({}),
        )
        .await;
    let grid = grid.data()["createPriceGrid"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    owner
        .run(
            "mutation($g: ID!, $p: ID!) { setGridPrice(input: {gridId: $g, productId: $p, unitPrice: \"90\"}) { unitPrice } }",
            json!({"g": grid, "p": product}),
        )
        .await
        .data();
    let rep = owner
        .run(
            "mutation($u: ID!) { createSalesRep(input: {kind: REP, firstName: \"L\", lastName: \"M\", userId: $u}) { id } }",
            json!({"u": member.user_id}),
        )
        .await;
    let rep = rep.data()["createSalesRep"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let scale = owner
        .run(
            "mutation { createCommissionScale(code: \"STD\", input: {name: \"S\", calculation: FIXED, base: FLAT, fixedAmount: \"10\", effectiveFrom: \"2026-01-01\"}) { id } }",
            json!({}),
        )
        .await;
    let scale = scale.data()["createCommissionScale"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let signed = draft_contract(&owner, "SIGNED", &client, &product, "1", Some(&rep)).await;
    let signed_id = signed["id"].as_str().unwrap().to_owned();
    sign(&owner, &signed_id).await.data();
    let draft = draft_contract(&owner, "DRAFT", &client, &product, "1", None).await;
    let draft_id = draft["id"].as_str().unwrap().to_owned();
    let line = draft["lines"][0]["id"].as_str().unwrap().to_owned();
    let event = payment_received(
        &owner.organisation_id,
        Uuid::new_v4(),
        &signed_id,
        "120",
        "2026-02-01",
    );
    apps.publish(&event).await;
    apps.wait_handled(event.id).await;
    let commission: Uuid = sqlx::query_scalar("select id from commissions")
        .fetch_one(&apps.db.pool)
        .await
        .unwrap();

    let intruder = apps.sign_up("intruder@example.fr", "Intruders").await;
    let own_client = create_client(&intruder, "Mine").await;
    apps.wait_caught_up().await;
    let own_product = active_product(&intruder, "MINE", "1", "20").await;
    let before = snapshot(&apps).await;

    let ids = json!({
        "product": product, "range": range, "grid": grid, "contract": signed_id, "draft": draft_id,
        "line": line, "rep": rep, "scale": scale, "commission": commission, "client": client,
        "ownClient": own_client, "ownProduct": own_product, "user": member.user_id,
    });
    let line_input = |product: &str| json!({"productId": product, "quantity": "1"});
    let contract_input = |client: &str| json!({"reference": "X", "title": "X", "clientId": client, "startDate": "2026-01-01", "billingFrequency": "MONTHLY"});
    let not_found: Vec<(&str, Value)> = vec![
        ("query($product: ID!) { product(id: $product) { id } }", ids.clone()),
        ("{ productBySku(sku: \"P1\") { id } }", json!({})),
        ("query($grid: ID!) { priceGrid(id: $grid) { id } }", ids.clone()),
        ("query($product: ID!) { calculatePrice(input: {productId: $product}) { unitPrice } }", ids.clone()),
        ("query($contract: ID!) { contract(id: $contract) { id } }", ids.clone()),
        ("{ contractByReference(reference: \"SIGNED\") { id } }", json!({})),
        ("query($rep: ID!) { salesRep(id: $rep) { id } }", ids.clone()),
        ("query($scale: ID!) { commissionScale(id: $scale) { id } }", ids.clone()),
        ("query($commission: ID!) { commission(id: $commission) { id } }", ids.clone()),
        ("mutation($range: ID!) { updateProductRange(id: $range, input: {name: \"Z\"}) { id } }", ids.clone()),
        ("mutation($range: ID!) { deleteProductRange(id: $range) }", ids.clone()),
        ("mutation($product: ID!) { updateProduct(id: $product, input: {sku: \"Z\", name: \"Z\", unitPrice: \"1\", vatRate: \"20\"}) { id } }", ids.clone()),
        ("mutation($product: ID!) { changeProductStatus(id: $product, status: FROZEN) { id } }", ids.clone()),
        ("mutation($product: ID!) { setProductPromotion(id: $product, input: {price: \"1\"}) { id } }", ids.clone()),
        ("mutation($product: ID!) { clearProductPromotion(id: $product) { id } }", ids.clone()),
        ("mutation($grid: ID!) { updatePriceGrid(id: $grid, input: {name: \"Z\"}) { id } }", ids.clone()),
        ("mutation($grid: ID!) { setDefaultPriceGrid(id: $grid) { id } }", ids.clone()),
        ("mutation($grid: ID!, $ownProduct: ID!) { setGridPrice(input: {gridId: $grid, productId: $ownProduct, unitPrice: \"1\"}) { unitPrice } }", ids.clone()),
        ("mutation($grid: ID!, $product: ID!) { removeGridPrice(gridId: $grid, productId: $product) }", ids.clone()),
        ("mutation($draft: ID!, $input: ContractInput!) { updateContract(id: $draft, input: $input) { id } }", json!({"draft": draft_id, "input": contract_input(&own_client)})),
        ("mutation($draft: ID!) { deleteContract(id: $draft) }", ids.clone()),
        ("mutation($draft: ID!, $input: ContractLineInput!) { addContractLine(contractId: $draft, input: $input) { id } }", json!({"draft": draft_id, "input": line_input(&own_product)})),
        ("mutation($line: ID!, $input: ContractLineInput!) { updateContractLine(id: $line, input: $input) { id } }", json!({"line": line, "input": line_input(&own_product)})),
        ("mutation($line: ID!) { removeContractLine(id: $line) { id } }", ids.clone()),
        ("mutation($draft: ID!) { signContract(id: $draft, signatureDate: \"2026-01-02\") { id } }", ids.clone()),
        ("mutation($contract: ID!) { activateContract(id: $contract) { id } }", ids.clone()),
        ("mutation($contract: ID!) { suspendContract(id: $contract, reason: \"x\") { id } }", ids.clone()),
        ("mutation($contract: ID!) { terminateContract(id: $contract, reason: \"x\") { id } }", ids.clone()),
        ("mutation($contract: ID!) { cancelContract(id: $contract, reason: \"x\") { id } }", ids.clone()),
        ("mutation($rep: ID!) { updateSalesRep(id: $rep, input: {kind: REP, firstName: \"Z\", lastName: \"Z\"}) { id } }", ids.clone()),
        ("mutation { reviseCommissionScale(code: \"STD\", reason: \"x\", input: {name: \"S\", calculation: FIXED, base: FLAT, fixedAmount: \"99\", effectiveFrom: \"2027-01-01\"}) { id } }", json!({})),
        ("mutation($scale: ID!) { setCommissionScaleActive(id: $scale, active: false) { id } }", ids.clone()),
        ("mutation($commission: ID!) { validateCommission(id: $commission) { id } }", ids.clone()),
        ("mutation($commission: ID!) { markCommissionPaid(id: $commission) { id } }", ids.clone()),
        ("mutation($commission: ID!) { cancelCommission(id: $commission) { id } }", ids.clone()),
    ];
    for (query, variables) in not_found {
        let response = intruder.run(query, variables).await;
        assert_eq!(response.error_code(), "NOT_FOUND", "{query}");
    }
    let invalid: Vec<(&str, Value, &str)> = vec![
        (
            "mutation($input: CreateContractInput!) { createContract(input: $input) { id } }",
            json!({"input": contract_input(&client)}),
            "clientId",
        ),
        (
            "mutation($input: CreateContractInput!) { createContract(input: $input) { id } }",
            json!({"input": {"reference": "X", "title": "X", "clientId": own_client, "salesRepId": rep, "startDate": "2026-01-01", "billingFrequency": "MONTHLY"}}),
            "salesRepId",
        ),
        (
            "mutation($input: CreateContractInput!) { createContract(input: $input) { id } }",
            json!({"input": {"reference": "X", "title": "X", "clientId": own_client, "startDate": "2026-01-01", "billingFrequency": "MONTHLY", "lines": [line_input(&product)]}}),
            "lines.0.productId",
        ),
        (
            "mutation($user: ID!) { createSalesRep(input: {kind: REP, firstName: \"Z\", lastName: \"Z\", userId: $user}) { id } }",
            ids.clone(),
            "userId",
        ),
    ];
    for (query, variables, field) in invalid {
        let response = intruder.run(query, variables).await;
        assert_eq!(response.error_code(), "VALIDATION", "{query}");
        assert_eq!(response.errors()[0]["extensions"]["field"], field);
    }
    let lists = intruder
        .run(
            "{ products { totalCount } productRanges { id } priceGrids { id } contracts { totalCount } salesReps { id } commissionScales { id } commissions { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        lists.data(),
        &json!({"products": {"totalCount": 1}, "productRanges": [], "priceGrids": [], "contracts": {"totalCount": 0},
                "salesReps": [], "commissionScales": [], "commissions": {"totalCount": 0}})
    );
    let entities = intruder
        .run(
            "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Product { sku } ... on Contract { reference } ... on ContractLine { quantity } ... on SalesRep { lastName } ... on Commission { netAmount } ... on Client { contracts { totalCount nodes { id } } } ... on User { salesRep { id } } } }",
            json!({"r": [
                {"__typename": "Product", "id": product}, {"__typename": "Contract", "id": signed_id},
                {"__typename": "ContractLine", "id": line}, {"__typename": "SalesRep", "id": rep},
                {"__typename": "Commission", "id": commission}, {"__typename": "Client", "id": client},
                {"__typename": "User", "id": member.user_id},
            ]}),
        )
        .await;
    assert_eq!(
        entities.data()["_entities"],
        json!([null, null, null, null, null, {"__typename": "Client", "contracts": {"totalCount": 0, "nodes": []}}, {"__typename": "User", "salesRep": null}])
    );
    // A payment event of the other organisation naming this one's contract computes nothing.
    let foreign = payment_received(
        &intruder.organisation_id,
        Uuid::new_v4(),
        &signed_id,
        "120",
        "2026-02-01",
    );
    apps.publish(&foreign).await;
    apps.wait_handled(foreign.id).await;
    assert_eq!(snapshot(&apps).await, before);
}
