//! The directory routes the other subgraphs read through: the caller's own organisation
//! only, with the payload core's events carry.

use serde_json::{json, Value};

use crate::helpers::*;

async fn lookup(app: &TestApp, token: Option<&str>, path: &str) -> (u16, Value) {
    let mut request = reqwest::Client::new().get(format!("{}/directory/{path}", app.base_url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_client_societe_and_member_are_told_to_their_own_organisation_only() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let member = app.join(&owner, "member@example.fr", "MEMBER").await;
    let stranger = app.sign_up("stranger@example.fr", "Other").await;
    let client = create_client(&owner, person("Dupont", "06 12 34 56 78")).await;
    let client_id = client["id"].as_str().unwrap();
    let societe = owner
        .run(
            "mutation { createSociete(input: {name: \"Acme SAS\", siren: \"732829320\"}) { id } }",
            json!({}),
        )
        .await;
    let societe_id = societe.data()["createSociete"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, body) = lookup(&app, Some(&owner.token), &format!("clients/{client_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["client_id"], client_id);
    assert_eq!(body["name"], "Dupont");
    assert_eq!(body["kind"], "PERSON");
    let (status, body) = lookup(&app, Some(&owner.token), &format!("societes/{societe_id}")).await;
    assert_eq!((status, body["siren"].as_str()), (200, Some("732829320")));
    let (status, body) = lookup(
        &app,
        Some(&owner.token),
        &format!("members/{}", member.user_id),
    )
    .await;
    assert_eq!((status, body["role"].as_str()), (200, Some("MEMBER")));

    for path in [
        format!("clients/{client_id}"),
        format!("societes/{societe_id}"),
        format!("members/{}", member.user_id),
    ] {
        let (status, _) = lookup(&app, Some(&stranger.token), &path).await;
        assert_eq!(status, 404, "another organisation's {path}");
        let (status, _) = lookup(&app, None, &path).await;
        assert_eq!(status, 401, "{path} without a token");
        let (status, _) = lookup(&app, Some("not.a.token"), &path).await;
        assert_eq!(status, 401, "{path} with a forged token");
    }
    let (status, _) = lookup(&app, Some(&owner.token), "clients/not-an-id").await;
    assert_eq!(status, 404);
}
