//! Clients: creation with addresses, the duplicate rule, updates, the bin, search and paging.

use serde_json::{json, Value};

use crate::helpers::*;

#[tokio::test]
async fn a_person_is_created_with_normalised_contacts_and_default_addresses() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let mut input = person("Dupont", "06 12 34 56 78");
    input["email"] = json!("Jeanne.Dupont@Example.FR");
    input["addresses"] = json!([
        {"kind": "BILLING", "line1": "1 rue A", "postalCode": "75001", "city": "Paris"},
        {"kind": "BILLING", "line1": "2 rue B", "postalCode": "69001", "city": "Lyon", "isDefault": true},
        {"kind": "SHIPPING", "line1": "3 rue C", "postalCode": "13001", "city": "Marseille", "country": "fr"}
    ]);
    let client = create_client(&owner, input).await;
    assert_eq!(client["phone"], "+33612345678");
    assert_eq!(client["email"], "jeanne.dupont@example.fr");
    assert_eq!(client["displayName"], "Jeanne Dupont");
    assert_eq!(client["status"], "ACTIVE");
    assert_eq!(client["paymentTermsDays"], 30);
    let addresses = client["addresses"].as_array().unwrap();
    let default_billing: Vec<&Value> = addresses
        .iter()
        .filter(|a| a["kind"] == "BILLING" && a["isDefault"] == true)
        .collect();
    assert_eq!(default_billing.len(), 1);
    assert_eq!(default_billing[0]["city"], "Lyon");
    assert!(addresses
        .iter()
        .any(|a| a["kind"] == "SHIPPING" && a["isDefault"] == true && a["country"] == "FR"));
}

#[tokio::test]
async fn a_company_carries_siren_and_matching_vat_number() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let client = create_client(
        &owner,
        json!({"kind": "COMPANY", "name": "IBM France", "siren": "732829320", "vatNumber": "FR44732829320", "status": "PROSPECT"}),
    )
    .await;
    assert_eq!(client["displayName"], "IBM France");
    assert_eq!(client["status"], "PROSPECT");
    assert_eq!(client["vatNumber"], "FR44732829320");
}

#[tokio::test]
async fn bad_client_input_is_refused_with_its_field_and_writes_nothing() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let cases = [
        (json!({"email": "nope"}), "email"),
        (json!({"phone": "12"}), "phone"),
        (json!({"name": ""}), "name"),
        (json!({"firstName": null}), "firstName"),
        (json!({"birthDate": "2999-01-01"}), "birthDate"),
        (json!({"paymentTermsDays": 400}), "paymentTermsDays"),
        (
            json!({"kind": "COMPANY", "firstName": null, "siren": "123456789"}),
            "siren",
        ),
        (
            json!({"kind": "COMPANY", "firstName": null, "siren": "732829320", "vatNumber": "FR00732829320"}),
            "vatNumber",
        ),
        (
            json!({"addresses": [{"kind": "BILLING", "line1": "x", "postalCode": "ABC", "city": "Paris"}]}),
            "addresses[0].postalCode",
        ),
        (
            json!({"addresses": [{"kind": "BILLING", "line1": "x", "postalCode": "75001", "city": "Paris", "country": "France"}]}),
            "addresses[0].country",
        ),
    ];
    for (overrides, field) in cases {
        let mut input = person("Dupont", "06 12 34 56 78");
        for (k, v) in overrides.as_object().unwrap() {
            input[k] = v.clone();
        }
        let response = owner.run(CREATE_CLIENT, json!({"input": input})).await;
        assert_eq!(response.error_code(), "VALIDATION", "{field}");
        assert_eq!(response.errors()[0]["extensions"]["field"], field);
    }
    let unknown_societe = owner
        .run(CREATE_CLIENT, json!({"input": {"kind": "PERSON", "name": "X", "firstName": "Y", "societeId": uuid::Uuid::new_v4().to_string()}}))
        .await;
    assert_eq!(unknown_societe.error_code(), "NOT_FOUND");
    assert_eq!(app.count("clients").await, 0);
    assert_eq!(app.count("addresses").await, 0);
}

#[tokio::test]
async fn the_same_phone_and_name_is_a_conflict_naming_the_existing_client() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let first = create_client(&owner, person("Dupont", "06 12 34 56 78")).await;
    let mut same = person("DUPONT", "+33 6 12 34 56 78");
    same["addresses"] =
        json!([{"kind": "BILLING", "line1": "1 rue A", "postalCode": "75001", "city": "Paris"}]);
    let response = owner.run(CREATE_CLIENT, json!({"input": same})).await;
    assert_eq!(response.error_code(), "CONFLICT");
    assert_eq!(
        response.errors()[0]["extensions"]["existingId"],
        first["id"]
    );
    assert_eq!(app.count("clients").await, 1);
    assert_eq!(app.count("addresses").await, 0);
    // Another name on the same phone is another client; the rule is per organisation.
    create_client(&owner, person("Martin", "06 12 34 56 78")).await;
    let other = app.sign_up("other@example.fr", "Globex").await;
    create_client(&other, person("Dupont", "06 12 34 56 78")).await;
}

const UPDATE: &str = "mutation($id: ID!, $input: UpdateClientInput!) { updateClient(id: $id, input: $input) { name firstName email phone status } }";

#[tokio::test]
async fn an_update_changes_given_fields_clears_nulls_and_keeps_the_rest() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let client = create_client(&owner, person("Dupont", "06 12 34 56 78")).await;
    let updated = owner
        .run(
            UPDATE,
            json!({"id": client["id"], "input": {"status": "SUSPENDED", "email": null}}),
        )
        .await;
    let updated = &updated.data()["updateClient"];
    assert_eq!(updated["status"], "SUSPENDED");
    assert_eq!(updated["email"], Value::Null);
    assert_eq!(updated["phone"], "+33612345678");
    assert_eq!(updated["firstName"], "Jeanne");

    let bad = owner
        .run(
            UPDATE,
            json!({"id": client["id"], "input": {"phone": "nope"}}),
        )
        .await;
    assert_eq!(bad.error_code(), "VALIDATION");
    let person_without_first_name = owner
        .run(
            UPDATE,
            json!({"id": client["id"], "input": {"firstName": null}}),
        )
        .await;
    assert_eq!(person_without_first_name.error_code(), "VALIDATION");
    let stored: (String, String) = sqlx::query_as("select phone, first_name from clients")
        .fetch_one(&app.core_db.pool)
        .await
        .unwrap();
    assert_eq!(stored, ("+33612345678".into(), "Jeanne".into()));

    let other = create_client(&owner, person("Martin", "06 99 99 99 99")).await;
    let collision = owner
        .run(
            UPDATE,
            json!({"id": other["id"], "input": {"name": "dupont", "phone": "0612345678"}}),
        )
        .await;
    assert_eq!(collision.error_code(), "CONFLICT");
    assert_eq!(
        collision.errors()[0]["extensions"]["existingId"],
        client["id"]
    );
    let missing = owner
        .run(
            UPDATE,
            json!({"id": uuid::Uuid::new_v4().to_string(), "input": {"name": "X"}}),
        )
        .await;
    assert_eq!(missing.error_code(), "NOT_FOUND");
    let malformed = owner
        .run(UPDATE, json!({"id": "not-a-uuid", "input": {"name": "X"}}))
        .await;
    assert_eq!(malformed.error_code(), "VALIDATION");
}

#[tokio::test]
async fn a_deleted_client_leaves_lists_and_can_be_restored() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let client = create_client(&owner, person("Dupont", "06 12 34 56 78")).await;
    let delete = "mutation($id: ID!) { deleteClient(id: $id) { deletedAt } }";
    let restore = "mutation($id: ID!) { restoreClient(id: $id) { deletedAt } }";
    assert!(
        owner.run(delete, json!({"id": client["id"]})).await.data()["deleteClient"]["deletedAt"]
            .is_string()
    );
    assert_eq!(
        owner
            .run(delete, json!({"id": client["id"]}))
            .await
            .error_code(),
        "INVALID_TRANSITION"
    );
    let live = owner.run("{ clients { totalCount } }", json!({})).await;
    assert_eq!(live.data()["clients"]["totalCount"], 0);
    let bin = owner
        .run(
            "{ clients(filter: {deleted: true}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(bin.data()["clients"]["totalCount"], 1);
    assert_eq!(
        owner
            .run(UPDATE, json!({"id": client["id"], "input": {"name": "X"}}))
            .await
            .error_code(),
        "NOT_FOUND"
    );

    // A new live client took the phone and name: restoring would duplicate it.
    let replacement = create_client(&owner, person("Dupont", "06 12 34 56 78")).await;
    let blocked = owner.run(restore, json!({"id": client["id"]})).await;
    assert_eq!(blocked.error_code(), "CONFLICT");
    assert_eq!(
        blocked.errors()[0]["extensions"]["existingId"],
        replacement["id"]
    );
    owner
        .run(delete, json!({"id": replacement["id"]}))
        .await
        .data();
    assert_eq!(
        owner.run(restore, json!({"id": client["id"]})).await.data()["restoreClient"]["deletedAt"],
        Value::Null
    );
    assert_eq!(
        owner
            .run(restore, json!({"id": client["id"]}))
            .await
            .error_code(),
        "INVALID_TRANSITION"
    );
}

#[tokio::test]
async fn viewers_read_but_do_not_write_clients() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let viewer = app.join(&owner, "viewer@example.fr", "VIEWER").await;
    let client = create_client(&owner, person("Dupont", "06 12 34 56 78")).await;
    assert_eq!(
        viewer
            .run(
                CREATE_CLIENT,
                json!({"input": person("Martin", "06 00 00 00 01")})
            )
            .await
            .error_code(),
        "FORBIDDEN"
    );
    assert_eq!(
        viewer
            .run(UPDATE, json!({"id": client["id"], "input": {"name": "X"}}))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    let add = "mutation($id: ID!) { addAddress(clientId: $id, input: {kind: OTHER, line1: \"x\", postalCode: \"75001\", city: \"Paris\"}) { id } }";
    assert_eq!(
        viewer
            .run(add, json!({"id": client["id"]}))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    assert_eq!(
        viewer
            .run(
                "mutation($id: ID!) { deleteClient(id: $id) { id } }",
                json!({"id": client["id"]})
            )
            .await
            .error_code(),
        "FORBIDDEN"
    );
    let read = viewer
        .run(
            "query($id: ID!) { client(id: $id) { name } }",
            json!({"id": client["id"]}),
        )
        .await;
    assert_eq!(read.data()["client"]["name"], "Dupont");
    assert_eq!(app.count("clients").await, 1);
}

#[tokio::test]
async fn addresses_are_added_updated_and_deleted_with_one_default_per_kind() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let client = create_client(&owner, person("Dupont", "06 12 34 56 78")).await;
    let add = "mutation($id: ID!, $input: AddressInput!) { addAddress(clientId: $id, input: $input) { id isDefault } }";
    let a = owner
        .run(add, json!({"id": client["id"], "input": {"kind": "BILLING", "line1": "1 rue A", "postalCode": "75001", "city": "Paris"}}))
        .await;
    assert_eq!(a.data()["addAddress"]["isDefault"], true);
    let b = owner
        .run(add, json!({"id": client["id"], "input": {"kind": "BILLING", "line1": "2 rue B", "postalCode": "75002", "city": "Paris", "isDefault": true}}))
        .await;
    let b_id = b.data()["addAddress"]["id"].clone();
    let defaults: i64 = sqlx::query_scalar("select count(*) from addresses where is_default")
        .fetch_one(&app.core_db.pool)
        .await
        .unwrap();
    assert_eq!(defaults, 1);
    let updated = owner
        .run(
            "mutation($id: ID!, $input: AddressInput!) { updateAddress(id: $id, input: $input) { city isDefault } }",
            json!({"id": b_id, "input": {"kind": "BILLING", "line1": "2 rue B", "postalCode": "33000", "city": "Bordeaux"}}),
        )
        .await;
    assert_eq!(
        updated.data()["updateAddress"],
        json!({"city": "Bordeaux", "isDefault": true})
    );
    let query = "query($id: ID!) { client(id: $id) { defaultAddress(kind: BILLING) { city } addresses(kind: BILLING) { id } } }";
    let read = owner.run(query, json!({"id": client["id"]})).await;
    assert_eq!(read.data()["client"]["defaultAddress"]["city"], "Bordeaux");
    owner
        .run(
            "mutation($id: ID!) { deleteAddress(id: $id) }",
            json!({"id": b_id}),
        )
        .await
        .data();
    assert_eq!(
        owner
            .run(
                "mutation($id: ID!) { deleteAddress(id: $id) }",
                json!({"id": b_id})
            )
            .await
            .error_code(),
        "NOT_FOUND"
    );
    let bad = owner
        .run(add, json!({"id": client["id"], "input": {"kind": "BILLING", "line1": "", "postalCode": "75001", "city": "Paris"}}))
        .await;
    assert_eq!(bad.error_code(), "VALIDATION");
    assert_eq!(app.count("addresses").await, 1);
}

const LIST: &str =
    "query($first: Int, $after: String, $filter: ClientFilter, $order: ClientOrder) {
    clients(first: $first, after: $after, filter: $filter, orderBy: $order) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { name firstName } }
    }
}";

fn names(response: &crm_test_support::GqlResponse) -> Vec<String> {
    response.data()["clients"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn clients_are_searched_filtered_sorted_and_paged() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let all = [
        "Martin", "bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    ];
    for (i, name) in all.iter().enumerate() {
        create_client(&owner, person(name, &format!("06 00 00 00 {i:02}"))).await;
    }
    create_client(&owner, json!({"kind": "COMPANY", "name": "Zeta Conseil", "status": "PROSPECT", "phone": "01 23 45 67 89"})).await;

    // Pages of 3 by name, case-insensitively, through the cursors.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = owner.run(LIST, json!({"first": 3, "after": after})).await;
        assert_eq!(page.data()["clients"]["totalCount"], 9);
        seen.extend(names(&page));
        let info = &page.data()["clients"]["pageInfo"];
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(
        seen,
        [
            "bernard",
            "Dubois",
            "Durand",
            "Martin",
            "Petit",
            "Richard",
            "Robert",
            "Thomas",
            "Zeta Conseil"
        ]
    );

    let desc = owner
        .run(
            LIST,
            json!({"first": 2, "order": {"field": "CREATED_AT", "direction": "DESC"}}),
        )
        .await;
    assert_eq!(names(&desc), ["Zeta Conseil", "Durand"]);
    let cursor = desc.data()["clients"]["pageInfo"]["endCursor"].clone();
    let next = owner.run(LIST, json!({"first": 2, "after": cursor, "order": {"field": "CREATED_AT", "direction": "DESC"}})).await;
    assert_eq!(names(&next), ["Petit", "Richard"]);

    let search = |q: &str| owner.run(LIST, json!({"filter": {"search": q}}));
    assert_eq!(names(&search("DUB").await), ["Dubois"]);
    assert_eq!(names(&search("durand@example").await), ["Durand"]);
    assert_eq!(names(&search("06 00 00 00 03").await), ["Thomas"]);
    assert_eq!(names(&search("+336000000").await).len(), 8);
    assert_eq!(names(&search("jeanne mar").await), ["Martin"]);
    assert_eq!(names(&search("%").await), Vec::<String>::new());
    let prospects = owner
        .run(LIST, json!({"filter": {"status": "PROSPECT"}}))
        .await;
    assert_eq!(names(&prospects), ["Zeta Conseil"]);
    let companies = owner
        .run(LIST, json!({"filter": {"kind": "COMPANY"}}))
        .await;
    assert_eq!(companies.data()["clients"]["totalCount"], 1);

    assert_eq!(
        owner.run(LIST, json!({"first": 101})).await.error_code(),
        "VALIDATION"
    );
    assert_eq!(
        owner
            .run(LIST, json!({"after": "garbage"}))
            .await
            .error_code(),
        "VALIDATION"
    );
}
