//! Inviting members and answering invitations.

use serde_json::json;

use crate::helpers::*;

const ACCEPT: &str = "mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { role organisation { id } } }";

fn new_account(token: &str) -> serde_json::Value {
    json!({"input": {"token": token, "newAccount": {"password": PASSWORD, "firstName": "New", "lastName": "Person"}}})
}

#[tokio::test]
async fn an_accepted_invitation_creates_the_membership_with_its_role() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let member = app.join(&owner, "member@example.fr", "ADMIN").await;
    assert_eq!(member.organisation_id, owner.organisation_id);
    let members = owner
        .run("{ members { role user { email } } }", json!({}))
        .await;
    let members = members.data()["members"].as_array().unwrap().clone();
    assert_eq!(members.len(), 2);
    assert_eq!(members[1]["role"], "ADMIN");
    assert_eq!(members[1]["user"]["email"], "member@example.fr");
    let invitations = owner
        .run("{ invitations { email status } }", json!({}))
        .await;
    assert_eq!(invitations.data()["invitations"][0]["status"], "ACCEPTED");
}

#[tokio::test]
async fn an_invitation_token_works_once() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let token = app.invite(&owner, "member@example.fr", "MEMBER").await;
    app.anonymous()
        .run(ACCEPT, new_account(&token))
        .await
        .data();
    let again = app.anonymous().run(ACCEPT, new_account(&token)).await;
    assert_eq!(again.error_code(), "CONFLICT");
    let rejected = app
        .anonymous()
        .run(
            "mutation($t: String!) { rejectInvitation(token: $t) }",
            json!({"t": token}),
        )
        .await;
    assert_eq!(rejected.error_code(), "CONFLICT");
    assert_eq!(app.count("memberships").await, 2);
}

#[tokio::test]
async fn an_expired_invitation_is_refused_and_can_be_replaced() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let token = app.invite(&owner, "late@example.fr", "MEMBER").await;
    sqlx::query("update invitations set expires_at = now() - interval '1 minute'")
        .execute(&app.core_db.pool)
        .await
        .unwrap();
    let response = app.anonymous().run(ACCEPT, new_account(&token)).await;
    assert_eq!(response.error_code(), "EXPIRED");
    assert_eq!(app.count("memberships").await, 1);
    assert_eq!(app.count("users").await, 1);
    let preview = app
        .anonymous()
        .run(
            "query($t: String!) { invitationPreview(token: $t) { status organisationName } }",
            json!({"t": token}),
        )
        .await;
    assert_eq!(preview.data()["invitationPreview"]["status"], "EXPIRED");
    // A new invitation to the same address replaces the expired one.
    let fresh = app.invite(&owner, "late@example.fr", "MEMBER").await;
    app.anonymous()
        .run(ACCEPT, new_account(&fresh))
        .await
        .data();
}

#[tokio::test]
async fn unknown_revoked_and_rejected_tokens_are_refused() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    assert_eq!(
        app.anonymous()
            .run(ACCEPT, new_account("nope"))
            .await
            .error_code(),
        "NOT_FOUND"
    );

    let response = owner
        .run(
            "mutation { inviteMember(input: {email: \"r@example.fr\", role: MEMBER}) { invitation { id } } }",
            json!({}),
        )
        .await;
    let id = response.data()["inviteMember"]["invitation"]["id"].clone();
    let token = app
        .mailed(crm_test_support::mailbox::INVITATION, "r@example.fr")
        .await;
    owner
        .run(
            "mutation($id: ID!) { revokeInvitation(id: $id) { status } }",
            json!({"id": id}),
        )
        .await
        .data();
    assert_eq!(
        app.anonymous()
            .run(ACCEPT, new_account(&token))
            .await
            .error_code(),
        "CONFLICT"
    );
    let again = owner
        .run(
            "mutation($id: ID!) { revokeInvitation(id: $id) { status } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(again.error_code(), "INVALID_TRANSITION");

    let token = app.invite(&owner, "no@example.fr", "MEMBER").await;
    app.anonymous()
        .run(
            "mutation($t: String!) { rejectInvitation(token: $t) }",
            json!({"t": token}),
        )
        .await
        .data();
    assert_eq!(
        app.anonymous()
            .run(ACCEPT, new_account(&token))
            .await
            .error_code(),
        "CONFLICT"
    );
    assert_eq!(app.count("memberships").await, 1);
}

#[tokio::test]
async fn an_existing_account_must_be_logged_in_as_the_invitee() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let invitee = app.sign_up("invitee@example.fr", "Own org").await;
    let stranger = app.sign_up("stranger@example.fr", "Other").await;
    let token = app.invite(&owner, "invitee@example.fr", "MEMBER").await;
    let input = json!({"input": {"token": token}});
    assert_eq!(
        app.anonymous()
            .run(ACCEPT, input.clone())
            .await
            .error_code(),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        stranger.run(ACCEPT, input.clone()).await.error_code(),
        "UNAUTHENTICATED"
    );
    let accepted = invitee.run(ACCEPT, input).await;
    assert_eq!(
        accepted.data()["acceptInvitation"]["organisation"]["id"],
        owner.organisation_id.as_str()
    );
}

#[tokio::test]
async fn invitations_are_for_admins_and_owners_invite_owners() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let viewer = app.join(&owner, "viewer@example.fr", "VIEWER").await;
    let member = app.join(&owner, "member@example.fr", "MEMBER").await;
    let admin = app.join(&owner, "admin@example.fr", "ADMIN").await;
    let query = "mutation($input: InviteMemberInput!) { inviteMember(input: $input) { invitation { id } } }";
    for session in [&viewer, &member] {
        let response = session
            .run(
                query,
                json!({"input": {"email": "x@example.fr", "role": "MEMBER"}}),
            )
            .await;
        assert_eq!(response.error_code(), "FORBIDDEN");
    }
    let response = admin
        .run(
            query,
            json!({"input": {"email": "x@example.fr", "role": "OWNER"}}),
        )
        .await;
    assert_eq!(response.error_code(), "FORBIDDEN");
    let response = admin
        .run(query, json!({"input": {"email": "bad", "role": "MEMBER"}}))
        .await;
    assert_eq!(response.error_code(), "VALIDATION");
    admin
        .run(
            query,
            json!({"input": {"email": "x@example.fr", "role": "MEMBER"}}),
        )
        .await
        .data();
    let twice = admin
        .run(
            query,
            json!({"input": {"email": "x@example.fr", "role": "MEMBER"}}),
        )
        .await;
    assert_eq!(twice.error_code(), "CONFLICT");
    let member_again = admin
        .run(
            query,
            json!({"input": {"email": "member@example.fr", "role": "MEMBER"}}),
        )
        .await;
    assert_eq!(member_again.error_code(), "CONFLICT");
    assert_eq!(
        viewer
            .run("{ invitations { id } }", json!({}))
            .await
            .error_code(),
        "FORBIDDEN"
    );
}
