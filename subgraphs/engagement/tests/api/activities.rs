//! Activities and activity types: the default types, a client's timeline, rules, roles and
//! other organisations.

use serde_json::{json, Value};

use crate::helpers::*;

const CREATE: &str = "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id subject type { code } client { id } } }";

async fn type_id(session: &Session, code: &str) -> Value {
    let types = session
        .run("{ activityTypes { id code label } }", json!({}))
        .await;
    types.data()["activityTypes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == code)
        .map(|t| t["id"].clone())
        .unwrap_or_else(|| panic!("no {code} type in {}", types.body))
}

#[tokio::test]
async fn a_new_organisation_gets_default_types_and_a_client_timeline() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    apps.wait_caught_up().await;
    let codes = owner.run("{ activityTypes { code } }", json!({})).await;
    assert_eq!(
        codes.data()["activityTypes"],
        json!([{"code": "CALL"}, {"code": "EMAIL"}, {"code": "MEETING"}, {"code": "NOTE"}, {"code": "TASK"}])
    );

    let client_id = uuid::Uuid::new_v4().to_string();
    let call = type_id(&owner, "CALL").await;
    let meeting = type_id(&owner, "MEETING").await;
    for (kind, subject, at) in [
        (&call, "Premier appel", "2026-03-01T10:00:00Z"),
        (&meeting, "Rendez-vous", "2026-03-05T14:00:00Z"),
        (&call, "Relance", "2026-03-03T09:00:00Z"),
    ] {
        let created = owner
            .run(CREATE, json!({"input": {"typeId": kind, "occurredAt": at, "subject": subject, "clientId": client_id}}))
            .await;
        assert_eq!(
            created.data()["createActivity"]["client"]["id"],
            client_id.as_str()
        );
    }
    let timeline = owner
        .run(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Client { activities { nodes { subject type { code } } } } } }",
            json!({"r": [{"__typename": "Client", "id": client_id}]}),
        )
        .await;
    assert_eq!(
        timeline.data()["_entities"][0]["activities"]["nodes"],
        json!([
            {"subject": "Rendez-vous", "type": {"code": "MEETING"}},
            {"subject": "Relance", "type": {"code": "CALL"}},
            {"subject": "Premier appel", "type": {"code": "CALL"}},
        ])
    );
    let page = owner.run("query($c: ID) { activities(first: 2, clientId: $c) { totalCount edges { node { subject } } } }", json!({"c": client_id})).await;
    assert_eq!(page.data()["activities"]["totalCount"], 3);
    assert_eq!(
        page.data()["activities"]["edges"][0]["node"]["subject"],
        "Rendez-vous"
    );
}

#[tokio::test]
async fn activity_types_are_managed_by_admins_and_kept_while_used() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let member = apps.join(&owner, "member@example.fr", "MEMBER").await;
    apps.wait_caught_up().await;
    let create_type = "mutation($c: String!, $l: String!) { createActivityType(code: $c, label: $l) { id code } }";
    assert_eq!(
        member
            .run(create_type, json!({"c": "VISIT", "l": "Visite"}))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    let created = owner
        .run(create_type, json!({"c": " visit ", "l": "Visite"}))
        .await;
    assert_eq!(created.data()["createActivityType"]["code"], "VISIT");
    assert_eq!(
        owner
            .run(create_type, json!({"c": "VISIT", "l": "Encore"}))
            .await
            .error_code(),
        "CONFLICT"
    );
    for (code, label, field) in [
        ("1BAD", "x", "code"),
        ("BAD-CODE", "x", "code"),
        ("OK", " ", "label"),
    ] {
        let response = owner.run(create_type, json!({"c": code, "l": label})).await;
        assert_eq!(response.errors()[0]["extensions"]["field"], field, "{code}");
    }
    let visit = created.data()["createActivityType"]["id"].clone();
    member
        .run(CREATE, json!({"input": {"typeId": visit, "occurredAt": "2026-03-01T10:00:00Z", "subject": "Visite"}}))
        .await
        .data();
    let delete = "mutation($id: ID!) { deleteActivityType(id: $id) }";
    assert_eq!(
        owner.run(delete, json!({"id": visit})).await.error_code(),
        "CONFLICT"
    );
    let note = type_id(&owner, "NOTE").await;
    assert_eq!(
        owner.run(delete, json!({"id": note})).await.data()["deleteActivityType"],
        note
    );
}

#[tokio::test]
async fn bad_activities_are_refused_and_other_organisations_see_nothing() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let viewer = apps.join(&owner, "viewer@example.fr", "VIEWER").await;
    let intruder = apps.sign_up("intruder@example.fr", "Evil").await;
    apps.wait_caught_up().await;
    let call = type_id(&owner, "CALL").await;
    let input = |subject: &str, kind: &Value| json!({"input": {"typeId": kind, "occurredAt": "2026-03-01T10:00:00Z", "subject": subject}});
    assert_eq!(
        owner.run(CREATE, input("  ", &call)).await.errors()[0]["extensions"]["field"],
        "subject"
    );
    assert_eq!(
        viewer.run(CREATE, input("ok", &call)).await.error_code(),
        "FORBIDDEN"
    );
    // Another organisation's type is unknown here.
    assert_eq!(
        intruder.run(CREATE, input("ok", &call)).await.error_code(),
        "NOT_FOUND"
    );
    let count: i64 = sqlx::query_scalar("select count(*) from activities")
        .fetch_one(&apps.db.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);

    let client_id = uuid::Uuid::new_v4().to_string();
    let created = owner
        .run(CREATE, json!({"input": {"typeId": call, "occurredAt": "2026-03-01T10:00:00Z", "subject": "secret call", "clientId": client_id}}))
        .await;
    let id = created.data()["createActivity"]["id"].clone();
    assert_eq!(
        intruder
            .run(
                "query($id: ID!) { activity(id: $id) { subject } }",
                json!({"id": id})
            )
            .await
            .error_code(),
        "NOT_FOUND"
    );
    assert_eq!(
        intruder
            .run(
                "mutation($id: ID!) { deleteActivity(id: $id) }",
                json!({"id": id})
            )
            .await
            .error_code(),
        "NOT_FOUND"
    );
    assert_eq!(
        intruder
            .run(
                "mutation($id: ID!) { deleteActivityType(id: $id) }",
                json!({"id": call})
            )
            .await
            .error_code(),
        "NOT_FOUND"
    );
    let listed = intruder
        .run("{ activities { totalCount } }", json!({}))
        .await;
    assert_eq!(listed.data()["activities"]["totalCount"], 0);
    let entity = intruder
        .run("query($r: [_Any!]!) { _entities(representations: $r) { ... on Activity { subject } } }", json!({"r": [{"__typename": "Activity", "id": id}]}))
        .await;
    assert_eq!(entity.data()["_entities"], json!([null]));
    let timeline = intruder
        .run(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Client { activities { totalCount nodes { subject } } } } }",
            json!({"r": [{"__typename": "Client", "id": client_id}]}),
        )
        .await;
    assert_eq!(
        timeline.data()["_entities"],
        json!([{"activities": {"totalCount": 0, "nodes": []}}])
    );
    // Each organisation sees its own types only.
    owner
        .run(
            "mutation { createActivityType(code: \"VISIT\", label: \"Visite\") { id } }",
            json!({}),
        )
        .await
        .data();
    let theirs = intruder.run("{ activityTypes { code } }", json!({})).await;
    assert_eq!(theirs.data()["activityTypes"].as_array().unwrap().len(), 5);
    assert_eq!(
        owner
            .run(
                "mutation($id: ID!) { deleteActivity(id: $id) }",
                json!({"id": id})
            )
            .await
            .data()["deleteActivity"],
        id
    );
}
