//! Roles follow the membership, not the token: a demoted admin's old token cannot re-promote
//! him, a removed admin's cannot invite, and a removed member's old token is refused by every
//! subgraph within seconds — through the gateway, long before it expires.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use std::time::Duration;

use crm_e2e::harness::Stack;
use crm_test_support::{graphql::GqlResponse, wait_for};
use serde_json::json;

fn refused(response: &GqlResponse) -> bool {
    response.body["data"].is_null()
        && response.errors().iter().any(|e| {
            matches!(
                e["extensions"]["code"].as_str(),
                Some("UNAUTHENTICATED" | "FORBIDDEN")
            )
        })
}

#[tokio::test]
async fn old_tokens_lose_what_the_membership_lost() {
    let stack = Stack::start().await;
    let owner = stack.core.sign_up("owner@roles.test", "Rôles").await;
    let admin = stack.core.join(&owner, "admin@roles.test", "ADMIN").await;
    let member = stack.core.join(&owner, "member@roles.test", "MEMBER").await;
    let through_gateway = |token: &str| stack.client().with_token(token.to_owned());
    let owner_api = through_gateway(&owner.token);
    // Before any change, the old tokens work everywhere.
    let everywhere = "{ clients(first: 1) { totalCount } contracts(first: 1) { totalCount }
                        invoices(first: 1) { totalCount } tasks(first: 1) { totalCount } }";
    through_gateway(&member.token)
        .run(everywhere, json!({}))
        .await
        .data();

    // The admin is demoted; his old token (still ADMIN inside) cannot re-promote him.
    owner_api
        .run(
            "mutation($id: ID!) { updateMemberRole(userId: $id, role: MEMBER) { role } }",
            json!({"id": admin.user_id}),
        )
        .await
        .data();
    let promote = through_gateway(&admin.token)
        .run(
            "mutation($id: ID!) { updateMemberRole(userId: $id, role: ADMIN) { role } }",
            json!({"id": admin.user_id}),
        )
        .await;
    assert!(refused(&promote), "{}", promote.body);
    let roles = owner_api
        .run("{ members { user { email } role } }", json!({}))
        .await;
    let admin_role = roles.data()["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"]["email"] == "admin@roles.test")
        .map(|m| m["role"].clone());
    assert_eq!(admin_role, Some(json!("MEMBER")));

    // Removed, the ex-admin's old token cannot invite anyone (no foothold left behind).
    owner_api
        .run(
            "mutation($id: ID!) { removeMember(userId: $id) }",
            json!({"id": admin.user_id}),
        )
        .await
        .data();
    let invite = through_gateway(&admin.token)
        .run(
            "mutation { inviteMember(input: {email: \"friend@roles.test\", role: ADMIN}) { invitation { id } } }",
            json!({}),
        )
        .await;
    assert!(refused(&invite), "{}", invite.body);

    // The removed member's old token is refused by every subgraph within seconds.
    owner_api
        .run(
            "mutation($id: ID!) { removeMember(userId: $id) }",
            json!({"id": member.user_id}),
        )
        .await
        .data();
    let old = through_gateway(&member.token);
    for field in ["clients", "contracts", "invoices", "tasks"] {
        let query = format!("{{ {field}(first: 1) {{ totalCount }} }}");
        let outcome = wait_for(Duration::from_secs(10), || async {
            let response = old.run(&query, json!({})).await;
            refused(&response).then_some(())
        })
        .await;
        assert!(outcome.is_some(), "{field} still answers a removed member");
    }
    // Plain routes too: core's directory (read-through) and finance's PDF downloads.
    let http = reqwest::Client::new();
    let lookup = |token: &str| {
        http.get(format!(
            "{}/directory/members/{}",
            stack.core.base_url, owner.user_id
        ))
        .bearer_auth(token)
        .send()
    };
    assert_eq!(lookup(&owner.token).await.unwrap().status(), 200);
    assert_eq!(lookup(&member.token).await.unwrap().status(), 401);
    let download = |token: &str| {
        http.get(format!(
            "{}/invoices/{}/pdf",
            stack.finance.base_url,
            uuid::Uuid::now_v7()
        ))
        .bearer_auth(token)
        .send()
    };
    // The owner is told the (random) invoice does not exist; the removed member, that his
    // token no longer holds.
    assert_eq!(download(&owner.token).await.unwrap().status(), 404);
    assert_eq!(download(&member.token).await.unwrap().status(), 401);

    // The owner, whose membership did not change, goes on.
    owner_api.run(everywhere, json!({})).await.data();
}
