//! Federation: the SDL and `_entities` lookups, as the gateway calls them.

use serde_json::json;

use crate::helpers::*;

const ENTITIES: &str = "query($r: [_Any!]!) { _entities(representations: $r) {
    ... on Client { id name } ... on Address { id city } ... on Societe { id name }
    ... on User { id email } ... on Organisation { id name }
} }";

#[tokio::test]
async fn the_sdl_declares_the_entities_with_their_keys() {
    let app = spawn_app().await;
    let sdl = app.anonymous().run("{ _service { sdl } }", json!({})).await;
    let sdl = sdl.data()["_service"]["sdl"].as_str().unwrap().to_owned();
    for entity in ["Client", "Address", "Societe", "User", "Organisation"] {
        assert!(
            sdl.contains(&format!("type {entity} @key(fields: \"id\")")),
            "{entity} in {sdl}"
        );
    }
    assert_eq!(sdl.trim_end(), subgraph_core::graphql::sdl().trim_end());
}

#[tokio::test]
async fn entities_resolve_in_batches_for_their_own_organisation() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let mut input = person("Dupont", "06 12 34 56 78");
    input["addresses"] =
        json!([{"kind": "BILLING", "line1": "1 rue A", "postalCode": "75001", "city": "Paris"}]);
    let a = create_client(&owner, input).await;
    let b = create_client(&owner, person("Martin", "06 12 34 56 79")).await;
    let representations = json!([
        {"__typename": "Client", "id": a["id"]},
        {"__typename": "Client", "id": b["id"]},
        {"__typename": "Client", "id": uuid::Uuid::new_v4().to_string()},
        {"__typename": "Address", "id": a["addresses"][0]["id"]},
        {"__typename": "User", "id": owner.user_id},
        {"__typename": "Organisation", "id": owner.organisation_id},
    ]);
    let response = owner.run(ENTITIES, json!({"r": representations})).await;
    let entities = response.data()["_entities"].as_array().unwrap().clone();
    assert_eq!(entities[0]["name"], "Dupont");
    assert_eq!(entities[1]["name"], "Martin");
    assert_eq!(entities[2], serde_json::Value::Null);
    assert_eq!(entities[3]["city"], "Paris");
    assert_eq!(entities[4]["email"], "owner@example.fr");
    assert_eq!(entities[5]["name"], "Acme");

    let anonymous = app
        .anonymous()
        .run(
            ENTITIES,
            json!({"r": [{"__typename": "Client", "id": a["id"]}]}),
        )
        .await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
}
