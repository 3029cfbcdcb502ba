//! Sales reps and `User.salesRep`.

use serde_json::json;

use crate::helpers::spawn_apps;

const CREATE: &str = "mutation($input: SalesRepInput!) { createSalesRep(input: $input) { id kind firstName lastName email active user { id } } }";

#[tokio::test]
async fn a_sales_rep_may_be_a_member_and_is_found_from_their_user() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let member = apps.join(&owner, "rep@example.fr", "MEMBER").await;
    let created = owner
        .run(
            CREATE,
            json!({"input": {"kind": "REP", "firstName": "Léa", "lastName": "Martin", "email": "Lea.Martin@Example.fr", "userId": member.user_id}}),
        )
        .await;
    let rep = &created.data()["createSalesRep"];
    assert_eq!(rep["email"], "lea.martin@example.fr");
    assert_eq!(rep["user"]["id"], member.user_id.as_str());
    let id = rep["id"].as_str().unwrap();

    let found = member
        .run(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { salesRep { lastName } } } }",
            json!({"r": [{"__typename": "User", "id": member.user_id}, {"__typename": "User", "id": owner.user_id}]}),
        )
        .await;
    assert_eq!(
        found.data()["_entities"],
        json!([{"salesRep": {"lastName": "Martin"}}, {"salesRep": null}])
    );
    let again = owner
        .run(CREATE, json!({"input": {"kind": "MANAGER", "firstName": "X", "lastName": "Y", "userId": member.user_id}}))
        .await;
    assert_eq!(again.error_code(), "CONFLICT");

    let updated = owner
        .run(
            "mutation($id: ID!, $input: SalesRepInput!) { updateSalesRep(id: $id, input: $input) { kind active } }",
            json!({"id": id, "input": {"kind": "MANAGER", "firstName": "Léa", "lastName": "Martin", "active": false}}),
        )
        .await;
    assert_eq!(
        updated.data()["updateSalesRep"],
        json!({"kind": "MANAGER", "active": false})
    );
    let active = owner
        .run("{ salesReps(active: true) { id } }", json!({}))
        .await;
    assert_eq!(active.data()["salesReps"], json!([]));
    let all = owner.run("{ salesReps { lastName } }", json!({})).await;
    assert_eq!(all.data()["salesReps"], json!([{"lastName": "Martin"}]));
}

#[tokio::test]
async fn bad_sales_reps_are_refused_and_only_admins_manage_them() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let member = apps.join(&owner, "member@example.fr", "MEMBER").await;
    let stranger = apps.sign_up("stranger@example.fr", "Other").await;
    let cases = [
        (
            json!({"kind": "REP", "firstName": "", "lastName": "Y"}),
            "VALIDATION",
            Some("firstName"),
        ),
        (
            json!({"kind": "REP", "firstName": "X", "lastName": "Y", "email": "nope"}),
            "VALIDATION",
            Some("email"),
        ),
        (
            json!({"kind": "REP", "firstName": "X", "lastName": "Y", "userId": stranger.user_id}),
            "VALIDATION",
            Some("userId"),
        ),
        (
            json!({"kind": "REP", "firstName": "X", "lastName": "Y", "societeId": uuid::Uuid::new_v4()}),
            "VALIDATION",
            Some("societeId"),
        ),
    ];
    for (input, code, field) in cases {
        let response = owner.run(CREATE, json!({"input": input})).await;
        assert_eq!(response.error_code(), code, "{input}");
        assert_eq!(
            response.errors()[0]["extensions"]["field"],
            json!(field),
            "{input}"
        );
    }
    let refused = member
        .run(
            CREATE,
            json!({"input": {"kind": "REP", "firstName": "X", "lastName": "Y"}}),
        )
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
    assert_eq!(apps.count("sales_reps").await, 0);
}
