//! The organisation, its members' roles and its sociétés.

use serde_json::json;

use crate::helpers::*;

const ROLE: &str =
    "mutation($u: ID!, $r: Role!) { updateMemberRole(userId: $u, role: $r) { role } }";
const REMOVE: &str = "mutation($u: ID!) { removeMember(userId: $u) }";

#[tokio::test]
async fn an_organisation_always_keeps_an_owner() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let admin = app.join(&owner, "admin@example.fr", "ADMIN").await;
    assert_eq!(
        owner
            .run(ROLE, json!({"u": owner.user_id, "r": "ADMIN"}))
            .await
            .error_code(),
        "CONFLICT"
    );
    assert_eq!(
        owner
            .run(REMOVE, json!({"u": owner.user_id}))
            .await
            .error_code(),
        "CONFLICT"
    );
    assert_eq!(
        owner
            .run("mutation { leaveOrganisation }", json!({}))
            .await
            .error_code(),
        "CONFLICT"
    );
    // Admins do not touch owners, nor make them.
    assert_eq!(
        admin
            .run(ROLE, json!({"u": owner.user_id, "r": "MEMBER"}))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    assert_eq!(
        admin
            .run(REMOVE, json!({"u": owner.user_id}))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    assert_eq!(
        admin
            .run(ROLE, json!({"u": admin.user_id, "r": "OWNER"}))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    // An owner can hand over, then leave.
    assert_eq!(
        owner
            .run(ROLE, json!({"u": admin.user_id, "r": "OWNER"}))
            .await
            .data()["updateMemberRole"]["role"],
        "OWNER"
    );
    owner
        .run("mutation { leaveOrganisation }", json!({}))
        .await
        .data();
    assert_eq!(app.count("memberships").await, 1);
}

#[tokio::test]
async fn members_and_viewers_do_not_manage_members_or_the_organisation() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let member = app.join(&owner, "member@example.fr", "MEMBER").await;
    let viewer = app.join(&owner, "viewer@example.fr", "VIEWER").await;
    for session in [&member, &viewer] {
        assert_eq!(
            session
                .run(ROLE, json!({"u": viewer.user_id, "r": "ADMIN"}))
                .await
                .error_code(),
            "FORBIDDEN"
        );
        assert_eq!(
            session
                .run(REMOVE, json!({"u": viewer.user_id}))
                .await
                .error_code(),
            "FORBIDDEN"
        );
        let renamed = session
            .run(
                "mutation { updateOrganisation(name: \"Hijacked\") { name } }",
                json!({}),
            )
            .await;
        assert_eq!(renamed.error_code(), "FORBIDDEN");
    }
    let organisation = viewer.run("{ organisation { name } }", json!({})).await;
    assert_eq!(organisation.data()["organisation"]["name"], "Acme");
    let removed = owner.run(REMOVE, json!({"u": viewer.user_id})).await;
    assert_eq!(removed.data()["removeMember"], viewer.user_id.as_str());
    assert_eq!(
        owner
            .run(REMOVE, json!({"u": viewer.user_id}))
            .await
            .error_code(),
        "NOT_FOUND"
    );
}

const CREATE_SOCIETE: &str = "mutation($input: SocieteInputObject!) { createSociete(input: $input) { id name siren siret vatNumber address { postalCode city country } } }";

fn societe() -> serde_json::Value {
    json!({"name": "Acme SAS", "siren": "732 829 320", "siret": "73282932000074", "vatNumber": "FR44732829320",
           "address": {"line1": "1 rue de Rivoli", "postalCode": "75001", "city": "Paris"}})
}

#[tokio::test]
async fn a_societe_is_created_with_checked_identifiers() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let created = owner.run(CREATE_SOCIETE, json!({"input": societe()})).await;
    let created = &created.data()["createSociete"];
    assert_eq!(created["siren"], "732829320");
    assert_eq!(created["address"]["country"], "FR");
    let listed = owner.run("{ societes { name } }", json!({})).await;
    assert_eq!(listed.data()["societes"][0]["name"], "Acme SAS");
}

#[tokio::test]
async fn invalid_societe_identifiers_are_refused_with_their_field() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let cases = [
        ("siren", json!("732829321"), "siren"),
        ("siren", json!("12345"), "siren"),
        ("siret", json!("73282932000075"), "siret"),
        ("siret", json!("55210055400013"), "siret"),
        ("vatNumber", json!("FR45732829320"), "vatNumber"),
        ("vatNumber", json!("FR44552100554"), "vatNumber"),
        (
            "address",
            json!({"line1": "x", "postalCode": "7500", "city": "Paris"}),
            "address.postalCode",
        ),
        ("name", json!(" "), "name"),
    ];
    for (key, value, field) in cases {
        let mut input = societe();
        input[key] = value;
        let response = owner.run(CREATE_SOCIETE, json!({"input": input})).await;
        assert_eq!(response.error_code(), "VALIDATION", "{key}");
        assert_eq!(response.errors()[0]["extensions"]["field"], field);
    }
    assert_eq!(app.count("societes").await, 0);
}

#[tokio::test]
async fn societe_rules_duplicates_roles_and_deletion() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let member = app.join(&owner, "member@example.fr", "MEMBER").await;
    assert_eq!(
        member
            .run(CREATE_SOCIETE, json!({"input": societe()}))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    let id = owner
        .run(CREATE_SOCIETE, json!({"input": societe()}))
        .await
        .data()["createSociete"]["id"]
        .clone();
    assert_eq!(
        owner
            .run(CREATE_SOCIETE, json!({"input": societe()}))
            .await
            .error_code(),
        "CONFLICT"
    );

    let mut renamed = societe();
    renamed["name"] = json!("Acme Holding");
    let updated = owner
        .run("mutation($id: ID!, $input: SocieteInputObject!) { updateSociete(id: $id, input: $input) { name } }", json!({"id": id, "input": renamed}))
        .await;
    assert_eq!(updated.data()["updateSociete"]["name"], "Acme Holding");

    let mut client = person("Durand", "06 11 22 33 44");
    client["societeId"] = id.clone();
    create_client(&member, client).await;
    let delete = "mutation($id: ID!) { deleteSociete(id: $id) }";
    assert_eq!(
        owner.run(delete, json!({"id": id})).await.error_code(),
        "CONFLICT"
    );
    assert_eq!(app.count("societes").await, 1);
    let unused = owner
        .run(
            CREATE_SOCIETE,
            json!({"input": {"name": "Petit", "siren": "552100554"}}),
        )
        .await;
    let unused_id = unused.data()["createSociete"]["id"].clone();
    assert_eq!(
        owner.run(delete, json!({"id": unused_id})).await.data()["deleteSociete"],
        unused_id
    );
    assert_eq!(
        owner
            .run(
                "query($id: ID!) { societe(id: $id) { id } }",
                json!({"id": unused_id})
            )
            .await
            .error_code(),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn admins_rename_the_organisation_with_a_valid_name() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let admin = app.join(&owner, "admin@example.fr", "ADMIN").await;
    let rename = "mutation($n: String!) { updateOrganisation(name: $n) { name } }";
    let renamed = admin.run(rename, json!({"n": "  Acme   Group "})).await;
    assert_eq!(renamed.data()["updateOrganisation"]["name"], "Acme Group");
    let empty = admin.run(rename, json!({"n": "   "})).await;
    assert_eq!(empty.error_code(), "VALIDATION");
    assert_eq!(empty.errors()[0]["extensions"]["field"], "name");
    let name: String = sqlx::query_scalar("select name from organisations")
        .fetch_one(&app.core_db.pool)
        .await
        .unwrap();
    assert_eq!(name, "Acme Group");
}

#[tokio::test]
async fn internal_errors_reach_the_client_without_details() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    create_client(&owner, person("Dupont", "06 12 34 56 78")).await;
    // Break the database under the running app.
    sqlx::query("drop table addresses")
        .execute(&app.core_db.pool)
        .await
        .unwrap();
    let response = owner
        .run(
            "{ clients { edges { node { name addresses { city } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(response.error_code(), "INTERNAL");
    let error = response.errors()[0].to_string();
    assert!(error.contains("Internal server error"), "{error}");
    assert!(
        !error.contains("addresses\" does not exist") && !error.to_lowercase().contains("relation"),
        "{error}"
    );
}
