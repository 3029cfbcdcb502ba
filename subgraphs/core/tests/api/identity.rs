//! Sign-up, login, tokens and the refusal of anything that is not a valid identity.

use serde_json::json;
use subgraph_core::tokens::{generate_signing_key_pem, TokenIssuer};
use subgraph_kit::{auth::TokenPolicy, Role};
use uuid::Uuid;

use crate::helpers::*;

const ME: &str = "{ me { user { id email } organisation { id name } role memberships { role organisation { name } } } }";

#[tokio::test]
async fn sign_up_makes_the_caller_owner_of_a_new_organisation() {
    let app = spawn_app().await;
    let owner = app.sign_up("Owner@Example.fr", "Acme").await;
    let me = owner.run(ME, json!({})).await;
    let me = &me.data()["me"];
    assert_eq!(me["user"]["email"], "owner@example.fr");
    assert_eq!(me["organisation"]["name"], "Acme");
    assert_eq!(me["organisation"]["id"], owner.organisation_id.as_str());
    assert_eq!(me["role"], "OWNER");
    assert_eq!(me["memberships"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn sign_up_with_bad_input_is_refused_and_writes_nothing() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"email": "not-an-email", "password": PASSWORD}),
            "email",
        ),
        (
            json!({"email": "a@example.fr", "password": "short"}),
            "password",
        ),
        (
            json!({"email": "a@example.fr", "password": PASSWORD, "firstName": "  "}),
            "firstName",
        ),
        (
            json!({"email": "a@example.fr", "password": PASSWORD, "organisationName": ""}),
            "organisationName",
        ),
    ];
    for (overrides, field) in cases {
        let mut input = json!({"email": "a@example.fr", "password": PASSWORD, "firstName": "A", "lastName": "B", "organisationName": "Org"});
        for (k, v) in overrides.as_object().unwrap() {
            input[k] = v.clone();
        }
        let response = app
            .anonymous()
            .run(
                "mutation($input: SignUpInput!) { signUp(input: $input) { email } }",
                json!({"input": input}),
            )
            .await;
        assert_eq!(response.error_code(), "VALIDATION", "{field}");
        assert_eq!(response.errors()[0]["extensions"]["field"], field);
    }
    assert_eq!(app.count("users").await, 0);
    assert_eq!(app.count("organisations").await, 0);
    assert_eq!(app.count("sign_ups").await, 0);
    assert_eq!(app.count("outbox").await, 0);
}

#[tokio::test]
async fn login_returns_a_token_for_the_oldest_or_the_requested_organisation() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let other = app.sign_up("other@example.fr", "Globex").await;
    let token = app.invite(&other, "owner@example.fr", "MEMBER").await;
    let accepted = owner
        .run(
            "mutation($t: String!) { acceptInvitation(input: {token: $t}) { role organisation { id } } }",
            json!({"t": token}),
        )
        .await;
    assert_eq!(accepted.data()["acceptInvitation"]["role"], "MEMBER");

    let login = |org: Option<&str>| {
        let client = app.anonymous();
        let org = org.map(str::to_owned);
        async move {
            client
                .run(
                    "mutation($input: LoginInput!) { login(input: $input) { organisation { id } role } }",
                    json!({"input": {"email": "owner@example.fr", "password": PASSWORD, "organisationId": org}}),
                )
                .await
        }
    };
    let default = login(None).await;
    assert_eq!(
        default.data()["login"]["organisation"]["id"],
        owner.organisation_id.as_str()
    );
    assert_eq!(default.data()["login"]["role"], "OWNER");
    let chosen = login(Some(&other.organisation_id)).await;
    assert_eq!(chosen.data()["login"]["role"], "MEMBER");
    let foreign = app.sign_up("third@example.fr", "Initech").await;
    assert_eq!(
        login(Some(&foreign.organisation_id)).await.error_code(),
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn login_with_a_wrong_password_or_an_unknown_email_is_refused_alike() {
    let app = spawn_app().await;
    app.sign_up("owner@example.fr", "Acme").await;
    for (email, password) in [
        ("owner@example.fr", "wrong password!!"),
        ("nobody@example.fr", PASSWORD),
    ] {
        let response = app
            .anonymous()
            .run(
                "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }",
                json!({"e": email, "p": password}),
            )
            .await;
        assert_eq!(response.error_code(), "UNAUTHENTICATED");
        assert_eq!(response.errors()[0]["message"], "wrong e-mail or password");
    }
}

#[tokio::test]
async fn switching_organisation_needs_a_membership() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let other = app.sign_up("other@example.fr", "Globex").await;
    let query = "mutation($id: ID!) { switchOrganisation(organisationId: $id) { token organisation { id } role } }";
    assert_eq!(
        owner
            .run(query, json!({"id": other.organisation_id}))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    let token = app.invite(&other, "owner@example.fr", "VIEWER").await;
    owner
        .run(
            "mutation($t: String!) { acceptInvitation(input: {token: $t}) { role } }",
            json!({"t": token}),
        )
        .await
        .data();
    let switched = owner.run(query, json!({"id": other.organisation_id})).await;
    assert_eq!(switched.data()["switchOrganisation"]["role"], "VIEWER");
    let new_token = switched.data()["switchOrganisation"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = owner.client.with_token(new_token).run(ME, json!({})).await;
    assert_eq!(me.data()["me"]["organisation"]["name"], "Globex");
}

const CLIENTS: &str = "{ clients { totalCount } }";

#[tokio::test]
async fn requests_without_a_valid_identity_are_refused() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    assert_eq!(
        owner.run(CLIENTS, json!({})).await.data()["clients"]["totalCount"],
        0
    );

    // No token at all.
    let anonymous = app.anonymous().run(CLIENTS, json!({})).await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");

    // Garbage, and a token signed by another key with the same issuer and claims.
    let garbage = app
        .anonymous()
        .with_token("not.a.jwt")
        .run(CLIENTS, json!({}))
        .await;
    assert_eq!(
        (garbage.status, garbage.error_code().as_str()),
        (401, "UNAUTHENTICATED")
    );
    let policy = TokenPolicy {
        issuer: "crm-core".into(),
        audience: "crm".into(),
    };
    let impostor = TokenIssuer::from_pem(
        &generate_signing_key_pem().unwrap(),
        policy.clone(),
        chrono::Duration::hours(1),
    )
    .unwrap();
    let org = Uuid::parse_str(&owner.organisation_id).unwrap();
    let user = Uuid::parse_str(&owner.user_id).unwrap();
    let forged = impostor
        .issue(user, Some((org, Role::Owner)))
        .unwrap()
        .token;
    let response = app
        .anonymous()
        .with_token(forged)
        .run(CLIENTS, json!({}))
        .await;
    assert_eq!(
        (response.status, response.error_code().as_str()),
        (401, "UNAUTHENTICATED")
    );

    // The real key, but the token has expired.
    let expired_issuer =
        TokenIssuer::from_pem(&app.signing_key, policy, chrono::Duration::seconds(-60)).unwrap();
    let expired = expired_issuer
        .issue(user, Some((org, Role::Owner)))
        .unwrap()
        .token;
    let response = app
        .anonymous()
        .with_token(expired)
        .run(CLIENTS, json!({}))
        .await;
    assert_eq!(response.error_code(), "UNAUTHENTICATED");
    assert!(response.errors()[0]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));

    // Identity headers are never trusted: only a verified token is.
    let forged_headers = app
        .anonymous()
        .run_with_headers(
            CLIENTS,
            json!({}),
            &[
                ("x-user-id", &owner.user_id),
                ("x-organisation-id", &owner.organisation_id),
                ("x-role", "OWNER"),
            ],
        )
        .await;
    assert_eq!(forged_headers.error_code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn the_jwks_verifies_the_tokens_core_issues() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let verifier = subgraph_kit::auth::TokenVerifier::remote(
        TokenPolicy {
            issuer: "crm-core".into(),
            audience: "crm".into(),
        },
        format!("{}/.well-known/jwks.json", app.base_url),
        std::time::Duration::from_secs(1),
    );
    let identity = verifier.verify(&owner.token).await.expect("verifies");
    assert_eq!(identity.user_id.to_string(), owner.user_id);
    let membership = identity.membership.expect("membership");
    assert_eq!(
        membership.organisation_id.to_string(),
        owner.organisation_id
    );
    assert_eq!(membership.role, Role::Owner);
}
