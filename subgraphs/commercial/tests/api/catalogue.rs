//! Products, ranges, price grids and the price calculation.

use serde_json::json;

use crate::helpers::{active_product, spawn_apps, PRODUCT};

const CREATE: &str = "mutation($input: ProductInput!) { createProduct(input: $input) { id sku status vatRate unitPrice nextStatuses } }";

#[tokio::test]
async fn a_product_starts_as_a_draft_and_follows_its_lifecycle() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let created = owner
        .run(CREATE, json!({"input": {"sku": "ASS-1", "name": "Assurance", "unitPrice": "19.90", "vatRate": "5.5"}}))
        .await;
    let product = &created.data()["createProduct"];
    assert_eq!(product["status"], "DRAFT");
    assert_eq!(product["vatRate"], "5.5");
    assert_eq!(product["nextStatuses"], json!(["TEST", "ACTIVE"]));
    let id = product["id"].as_str().unwrap();
    let change = |status: &'static str| {
        let owner = owner.clone();
        let id = id.to_owned();
        async move {
            owner
                .run(
                    "mutation($id: ID!, $s: ProductStatus!) { changeProductStatus(id: $id, status: $s) { status } }",
                    json!({"id": id, "s": status}),
                )
                .await
        }
    };
    for status in ["TEST", "ACTIVE", "FROZEN", "ACTIVE", "RETIRED"] {
        assert_eq!(
            change(status).await.data()["changeProductStatus"]["status"],
            status
        );
    }
    let refused = change("ACTIVE").await;
    assert_eq!(refused.error_code(), "INVALID_TRANSITION");
    let update = owner
        .run(
            "mutation($id: ID!, $input: ProductInput!) { updateProduct(id: $id, input: $input) { id } }",
            json!({"id": id, "input": {"sku": "ASS-1", "name": "Renamed", "unitPrice": "1", "vatRate": "20"}}),
        )
        .await;
    assert_eq!(update.error_code(), "INVALID_TRANSITION");
    let stored: (String, String) = sqlx::query_as("select name, status::text from products")
        .fetch_one(&apps.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, ("Assurance".to_owned(), "RETIRED".to_owned()));
}

#[tokio::test]
async fn bad_products_are_refused_and_nothing_is_written() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let ok = owner
        .run(
            CREATE,
            json!({"input": {"sku": "P1", "name": "Un", "unitPrice": "10", "vatRate": "20"}}),
        )
        .await;
    ok.data();
    let cases = [
        (
            json!({"sku": "P1", "name": "Doublon", "unitPrice": "10", "vatRate": "20"}),
            "CONFLICT",
            None,
        ),
        (
            json!({"sku": "P2", "name": "TVA", "unitPrice": "10", "vatRate": "19.6"}),
            "VALIDATION",
            Some("vatRate"),
        ),
        (
            json!({"sku": "P3", "name": "Négatif", "unitPrice": "-1", "vatRate": "20"}),
            "VALIDATION",
            Some("unitPrice"),
        ),
        (
            json!({"sku": "P4", "name": "Millièmes", "unitPrice": "1.001", "vatRate": "20"}),
            "VALIDATION",
            Some("unitPrice"),
        ),
        (
            json!({"sku": " ", "name": "Sans SKU", "unitPrice": "1", "vatRate": "20"}),
            "VALIDATION",
            Some("sku"),
        ),
        (
            json!({"sku": "P5", "name": "Devise", "unitPrice": "1", "vatRate": "20", "currency": "euro"}),
            "VALIDATION",
            Some("currency"),
        ),
        (
            json!({"sku": "P6", "name": "Gamme", "unitPrice": "1", "vatRate": "20", "rangeId": uuid::Uuid::new_v4()}),
            "VALIDATION",
            Some("rangeId"),
        ),
    ];
    for (input, code, field) in cases {
        let response = owner.run(CREATE, json!({"input": input})).await;
        assert_eq!(response.error_code(), code, "{input}");
        if let Some(field) = field {
            assert_eq!(
                response.errors()[0]["extensions"]["field"],
                field,
                "{input}"
            );
        }
    }
    assert_eq!(apps.count("products").await, 1);
}

#[tokio::test]
async fn members_read_the_catalogue_and_only_admins_change_it() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let member = apps.join(&owner, "member@example.fr", "MEMBER").await;
    active_product(&owner, "P1", "10", "20").await;
    let listed = member
        .run(
            &format!("{{ products {{ totalCount edges {{ node {{ {PRODUCT} }} }} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(listed.data()["products"]["totalCount"], 1);
    let refused = member
        .run(
            CREATE,
            json!({"input": {"sku": "P2", "name": "Deux", "unitPrice": "1", "vatRate": "20"}}),
        )
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
    assert_eq!(apps.count("products").await, 1);
}

#[tokio::test]
async fn products_are_listed_by_name_filtered_and_paged() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    for (sku, name) in [("C", "Gamma"), ("A", "Alpha"), ("B", "Beta 50%")] {
        owner
            .run(
                CREATE,
                json!({"input": {"sku": sku, "name": name, "unitPrice": "1", "vatRate": "20"}}),
            )
            .await
            .data();
    }
    let query = "query($after: String, $f: ProductFilterInput) { products(first: 2, after: $after, filter: $f) { totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }";
    let first = owner.run(query, json!({})).await;
    let page = &first.data()["products"];
    assert_eq!(page["totalCount"], 3);
    assert_eq!(page["edges"][1]["node"]["name"], "Beta 50%");
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let second = owner
        .run(query, json!({"after": page["pageInfo"]["endCursor"]}))
        .await;
    assert_eq!(
        second.data()["products"]["edges"][0]["node"]["name"],
        "Gamma"
    );
    let searched = owner.run(query, json!({"f": {"search": "50%"}})).await;
    assert_eq!(searched.data()["products"]["totalCount"], 1);
    let by_sku = owner
        .run("{ productBySku(sku: \"A\") { name } }", json!({}))
        .await;
    assert_eq!(by_sku.data()["productBySku"]["name"], "Alpha");
    let drafts = owner.run(query, json!({"f": {"status": "ACTIVE"}})).await;
    assert_eq!(drafts.data()["products"]["totalCount"], 0);
}

#[tokio::test]
async fn ranges_group_products_and_keep_those_they_hold() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let range = owner
        .run(
            "mutation { createProductRange(input: {name: \"Santé\", position: 1}) { id name active } }",
            json!({}),
        )
        .await;
    let range_id = range.data()["createProductRange"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let duplicate = owner
        .run(
            "mutation { createProductRange(input: {name: \"Santé\"}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(duplicate.error_code(), "CONFLICT");
    let product = owner
        .run(
            "mutation($input: ProductInput!) { createProduct(input: $input) { range { name } } }",
            json!({"input": {"sku": "S1", "name": "Mutuelle", "unitPrice": "30", "vatRate": "0", "rangeId": range_id}}),
        )
        .await;
    assert_eq!(product.data()["createProduct"]["range"]["name"], "Santé");
    let renamed = owner
        .run(
            "mutation($id: ID!) { updateProductRange(id: $id, input: {name: \"Santé+\"}) { name } }",
            json!({"id": range_id}),
        )
        .await;
    assert_eq!(renamed.data()["updateProductRange"]["name"], "Santé+");
    let held = owner
        .run(
            "mutation($id: ID!) { deleteProductRange(id: $id) }",
            json!({"id": range_id}),
        )
        .await;
    assert_eq!(held.error_code(), "CONFLICT");
    let listed = owner.run("{ productRanges { name } }", json!({})).await;
    assert_eq!(listed.data()["productRanges"], json!([{"name": "Santé+"}]));
}

const CALCULATE: &str = "query($input: CalculatePriceInput!) { calculatePrice(input: $input) { baseUnitPrice promotionApplied gridId discountPercent unitPrice quantity vatRate totalExclVat totalVat totalInclVat } }";

#[tokio::test]
async fn the_price_comes_from_the_grid_in_force_with_discounts_clamped_to_the_cent() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let product = active_product(&owner, "P1", "120.00", "20").await;
    // No grid: the list price.
    let list = owner
        .run(
            CALCULATE,
            json!({"input": {"productId": product, "quantity": "3"}}),
        )
        .await;
    let quote = &list.data()["calculatePrice"];
    assert_eq!(quote["gridId"], json!(null));
    assert_eq!(quote["totalExclVat"], "360.00");
    assert_eq!(quote["totalInclVat"], "432.00");

    let grid = owner
        .run(
            "mutation { createPriceGrid(input: {name: \"2026\", validFrom: \"2026-01-01\"}) { id isDefault } }",
            json!({}),
        )
        .await;
    let grid_id = grid.data()["createPriceGrid"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    owner
        .run(
            "mutation($input: SetGridPriceInput!) { setGridPrice(input: $input) { unitPrice } }",
            json!({"input": {"gridId": grid_id, "productId": product, "unitPrice": "99.99", "discountPercent": "7.5", "minPrice": "92.50"}}),
        )
        .await
        .data();
    let graded = owner
        .run(
            CALCULATE,
            json!({"input": {"productId": product, "quantity": "3", "additionalDiscountPercent": "2.5", "on": "2026-06-01T00:00:00Z"}}),
        )
        .await;
    let quote = &graded.data()["calculatePrice"];
    assert_eq!(quote["gridId"], grid_id.as_str());
    assert_eq!(quote["baseUnitPrice"], "99.99");
    assert_eq!(quote["discountPercent"], "10");
    // 99.99 × 0.90 = 89.991 → 89.99, clamped up to 92.50.
    assert_eq!(quote["unitPrice"], "92.50");
    assert_eq!(quote["totalExclVat"], "277.50");
    assert_eq!(quote["totalVat"], "55.50");
    assert_eq!(quote["totalInclVat"], "333.00");
    // Before the grid's validity, no grid applies (it is not the default).
    let before = owner
        .run(
            CALCULATE,
            json!({"input": {"productId": product, "on": "2025-06-01T00:00:00Z"}}),
        )
        .await;
    assert_eq!(before.data()["calculatePrice"]["unitPrice"], "120.00");

    // A promotion in force replaces the price.
    owner
        .run(
            "mutation($id: ID!) { setProductPromotion(id: $id, input: {price: \"80\", startsAt: \"2026-05-01T00:00:00Z\", endsAt: \"2026-07-01T00:00:00Z\"}) { promotion { price } } }",
            json!({"id": product}),
        )
        .await
        .data();
    let promoted = owner
        .run(CALCULATE, json!({"input": {"productId": product, "gridId": grid_id, "on": "2026-06-01T00:00:00Z"}}))
        .await;
    let quote = &promoted.data()["calculatePrice"];
    assert_eq!(quote["promotionApplied"], true);
    assert_eq!(quote["unitPrice"], "92.50"); // 80 × 0.925 = 74, clamped to the grid minimum
    let bad = owner
        .run(
            CALCULATE,
            json!({"input": {"productId": product, "quantity": "-1"}}),
        )
        .await;
    assert_eq!(bad.error_code(), "VALIDATION");
    let bad = owner
        .run(
            CALCULATE,
            json!({"input": {"productId": product, "additionalDiscountPercent": "101"}}),
        )
        .await;
    assert_eq!(bad.error_code(), "VALIDATION");
}

#[tokio::test]
async fn one_default_grid_at_a_time_is_the_fallback() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let mut ids = Vec::new();
    for name in ["Base", "Old"] {
        let grid = owner
            .run(
                "mutation($name: String!) { createPriceGrid(input: {name: $name, validTo: \"2020-12-31\"}) { id } }",
                json!({"name": name}),
            )
            .await;
        ids.push(
            grid.data()["createPriceGrid"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for id in &ids {
        let set = owner
            .run(
                "mutation($id: ID!) { setDefaultPriceGrid(id: $id) { isDefault } }",
                json!({"id": id}),
            )
            .await;
        assert_eq!(set.data()["setDefaultPriceGrid"]["isDefault"], true);
    }
    let grids = owner
        .run("{ priceGrids { name isDefault } }", json!({}))
        .await;
    assert_eq!(
        grids.data()["priceGrids"],
        json!([{"name": "Old", "isDefault": true}, {"name": "Base", "isDefault": false}])
    );
    // Out of its dates, the default grid is still the fallback.
    let active = owner.run("{ activePriceGrid { name } }", json!({})).await;
    assert_eq!(active.data()["activePriceGrid"]["name"], "Old");
    let bad = owner
        .run(
            "mutation { createPriceGrid(input: {name: \"X\", validFrom: \"2026-02-01\", validTo: \"2026-01-01\"}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(bad.error_code(), "VALIDATION");
}

#[tokio::test]
async fn grids_and_promotions_are_edited_and_removed() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let product = active_product(&owner, "P1", "50", "10").await;
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
    let updated = owner
        .run(
            "mutation($id: ID!) { updatePriceGrid(id: $id, input: {name: \"Grille 2026\", validFrom: \"2026-01-01\", active: false}) { name validFrom active } }",
            json!({"id": grid}),
        )
        .await;
    assert_eq!(
        updated.data()["updatePriceGrid"],
        json!({"name": "Grille 2026", "validFrom": "2026-01-01", "active": false})
    );
    let set = owner
        .run(
            "mutation($g: ID!, $p: ID!) { setGridPrice(input: {gridId: $g, productId: $p, unitPrice: \"45\", discountPercent: \"5\"}) { unitPrice discountPercent product { sku } } }",
            json!({"g": grid, "p": product}),
        )
        .await;
    assert_eq!(
        set.data()["setGridPrice"],
        json!({"unitPrice": "45.00", "discountPercent": "5", "product": {"sku": "P1"}})
    );
    let bad = owner
        .run(
            "mutation($g: ID!, $p: ID!) { setGridPrice(input: {gridId: $g, productId: $p, unitPrice: \"45\", minPrice: \"50\", maxPrice: \"40\"}) { unitPrice } }",
            json!({"g": grid, "p": product}),
        )
        .await;
    assert_eq!(bad.error_code(), "VALIDATION");
    let prices = owner
        .run(
            "query($id: ID!) { priceGrid(id: $id) { prices { unitPrice } } }",
            json!({"id": grid}),
        )
        .await;
    assert_eq!(
        prices.data()["priceGrid"]["prices"],
        json!([{"unitPrice": "45.00"}])
    );
    let removed = owner
        .run(
            "mutation($g: ID!, $p: ID!) { removeGridPrice(gridId: $g, productId: $p) }",
            json!({"g": grid, "p": product}),
        )
        .await;
    assert_eq!(removed.data()["removeGridPrice"], true);
    assert_eq!(apps.count("grid_prices").await, 0);

    let promoted = owner
        .run(
            "mutation($id: ID!) { setProductPromotion(id: $id, input: {price: \"40\"}) { promotion { price active } } }",
            json!({"id": product}),
        )
        .await;
    assert_eq!(
        promoted.data()["setProductPromotion"]["promotion"],
        json!({"price": "40.00", "active": true})
    );
    let bad_dates = owner
        .run(
            "mutation($id: ID!) { setProductPromotion(id: $id, input: {price: \"40\", startsAt: \"2026-02-01T00:00:00Z\", endsAt: \"2026-01-01T00:00:00Z\"}) { id } }",
            json!({"id": product}),
        )
        .await;
    assert_eq!(bad_dates.error_code(), "VALIDATION");
    let cleared = owner
        .run(
            "mutation($id: ID!) { clearProductPromotion(id: $id) { promotion { price } } }",
            json!({"id": product}),
        )
        .await;
    assert_eq!(
        cleared.data()["clearProductPromotion"]["promotion"],
        json!(null)
    );
}
