//! Accounts without a token: sign-up confirmed by an e-mailed link, password reset by one,
//! and answers that never tell which accounts exist.

use crm_test_support::mailbox::{PASSWORD_RESET, SIGN_UP};
use serde_json::{json, Value};

use crate::helpers::*;

const ASK_SIGN_UP: &str = "mutation($input: SignUpInput!) { signUp(input: $input) { email } }";
const CONFIRM: &str = "mutation($t: String!, $p: String!) { confirmSignUp(token: $t, password: $p) { token refreshToken user { id email } organisation { id name } role } }";
const ASK_RESET: &str = "mutation($e: String!) { requestPasswordReset(email: $e) }";
const RESET: &str =
    "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }";
const LOGIN: &str = "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token refreshToken organisation { id } } }";
const REFRESH: &str = "mutation($t: String!) { refreshSession(refreshToken: $t) { token } }";

fn sign_up_input(email: &str, organisation: &str) -> Value {
    json!({"input": {"email": email, "password": PASSWORD, "firstName": "Léa", "lastName": "Roux", "organisationName": organisation}})
}

/// Core's recorded events of `event_type`, oldest first.
async fn recorded(app: &TestApp, event_type: &str) -> Vec<Value> {
    sqlx::query_scalar("select envelope from outbox where event_type = $1 order by created_at, id")
        .bind(event_type)
        .fetch_all(&app.core_db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sign_up_creates_nothing_until_its_emailed_link_confirms_it() {
    let app = spawn_app().await;
    let asked = app
        .anonymous()
        .run(
            ASK_SIGN_UP,
            sign_up_input(" Lea@Example.fr ", "Roux Conseil"),
        )
        .await;
    assert_eq!(asked.data()["signUp"], json!({"email": "lea@example.fr"}));
    assert_eq!(app.count("users").await, 0);
    assert_eq!(app.count("organisations").await, 0);
    // The link's token crosses the bus sealed; only its digest is stored.
    let token = app.mailed(SIGN_UP, "lea@example.fr").await;
    let requested = recorded(&app, SIGN_UP).await;
    assert_eq!(requested.len(), 1);
    assert!(!requested[0].to_string().contains(&token));
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from sign_ups s where strpos(s::text, $1) > 0 or strpos(s::text, $2) > 0",
    )
    .bind(&token)
    .bind(PASSWORD)
    .fetch_one(&app.core_db.pool)
    .await
    .unwrap();
    assert_eq!(
        stored, 0,
        "neither the token nor the password is stored in clear"
    );

    // The link needs the password chosen with it: whoever asked, not whoever reads the mail.
    let wrong = app
        .anonymous()
        .run(CONFIRM, json!({"t": token, "p": "someone else's password"}))
        .await;
    assert_eq!(wrong.error_code(), "VALIDATION", "{}", wrong.body);
    assert_eq!(app.count("users").await, 0);

    let confirmed = app
        .anonymous()
        .run(CONFIRM, json!({"t": token, "p": PASSWORD}))
        .await;
    let payload = confirmed.data()["confirmSignUp"].clone();
    assert_eq!(payload["role"], "OWNER");
    assert_eq!(payload["user"]["email"], "lea@example.fr");
    assert_eq!(payload["organisation"]["name"], "Roux Conseil");
    // The confirmation e-mail belongs to the organisation it created.
    assert_eq!(
        requested[0]["organisation_id"],
        payload["organisation"]["id"]
    );
    let created = recorded(&app, "organisation.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["payload"]["owner_id"], payload["user"]["id"]);
    assert_eq!(app.count("sign_ups").await, 0);
    let session = app.session(&payload);
    session
        .run("{ me { organisation { name } } }", json!({}))
        .await
        .data();
    app.anonymous()
        .run(LOGIN, json!({"e": "lea@example.fr", "p": PASSWORD}))
        .await
        .data();

    // The link works once.
    let again = app
        .anonymous()
        .run(CONFIRM, json!({"t": token, "p": PASSWORD}))
        .await;
    assert_eq!(again.error_code(), "NOT_FOUND");
    assert_eq!(app.count("organisations").await, 1);
}

#[tokio::test]
async fn signing_up_with_a_taken_email_answers_alike_and_tells_its_owner_once() {
    let app = spawn_app().await;
    let owner = app.sign_up("dup@example.fr", "First").await;
    let fresh = app
        .anonymous()
        .run(ASK_SIGN_UP, sign_up_input("nobody@example.fr", "Second"))
        .await;
    let taken = app
        .anonymous()
        .run(ASK_SIGN_UP, sign_up_input("DUP@example.fr", "Second"))
        .await;
    // The same answer, status and shape: only the address differs.
    assert_eq!(taken.status, fresh.status);
    assert_eq!(
        taken.body.to_string().replace("dup@", "nobody@"),
        fresh.body.to_string()
    );
    assert_eq!(app.count("organisations").await, 1);
    assert_eq!(app.count("users").await, 1);
    let told = recorded(&app, "sign_up.existing_account").await;
    assert_eq!(told.len(), 1);
    assert_eq!(told[0]["payload"]["user_id"], json!(owner.user_id));
    assert_eq!(told[0]["organisation_id"], json!(owner.organisation_id));
    assert!(told[0]["payload"].get("sealed_token").is_none());
    // Asking again within the hour says the same and mails nobody again.
    let repeated = app
        .anonymous()
        .run(ASK_SIGN_UP, sign_up_input("dup@example.fr", "Third"))
        .await;
    assert_eq!(repeated.data()["signUp"]["email"], "dup@example.fr");
    assert_eq!(recorded(&app, "sign_up.existing_account").await.len(), 1);
    // Nobody else learns of it: the pending sign-up of another address stays its own.
    assert_eq!(recorded(&app, SIGN_UP).await.len(), 2);
}

#[tokio::test]
async fn a_sign_up_link_is_replaced_by_a_later_one_and_expires() {
    let app = spawn_app().await;
    app.anonymous()
        .run(ASK_SIGN_UP, sign_up_input("late@example.fr", "Late"))
        .await
        .data();
    let first = app.mailed(SIGN_UP, "late@example.fr").await;
    // Within a minute, asking again sends nothing more.
    app.anonymous()
        .run(ASK_SIGN_UP, sign_up_input("late@example.fr", "Later"))
        .await
        .data();
    assert_eq!(recorded(&app, SIGN_UP).await.len(), 1);
    // After it, a new link replaces the first.
    sqlx::query("update sign_ups set created_at = now() - interval '2 minutes'")
        .execute(&app.core_db.pool)
        .await
        .unwrap();
    app.anonymous()
        .run(ASK_SIGN_UP, sign_up_input("late@example.fr", "Latest"))
        .await
        .data();
    let second = app.mailed(SIGN_UP, "late@example.fr").await;
    assert_ne!(first, second);
    let replaced = app
        .anonymous()
        .run(CONFIRM, json!({"t": first, "p": PASSWORD}))
        .await;
    assert_eq!(replaced.error_code(), "NOT_FOUND");
    sqlx::query("update sign_ups set expires_at = now() - interval '1 second'")
        .execute(&app.core_db.pool)
        .await
        .unwrap();
    let expired = app
        .anonymous()
        .run(CONFIRM, json!({"t": second, "p": PASSWORD}))
        .await;
    assert_eq!(expired.error_code(), "EXPIRED");
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_once_and_ends_every_session() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let laptop = app
        .anonymous()
        .run(LOGIN, json!({"e": "owner@example.fr", "p": PASSWORD}))
        .await
        .data()["login"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    // Ten wrong passwords lock the address; the reset unlocks it.
    for _ in 0..10 {
        app.anonymous()
            .run(
                LOGIN,
                json!({"e": "owner@example.fr", "p": "not the password"}),
            )
            .await;
    }
    let locked = app
        .anonymous()
        .run(LOGIN, json!({"e": "owner@example.fr", "p": PASSWORD}))
        .await;
    assert_eq!(locked.error_code(), "RATE_LIMITED");

    let asked = app
        .anonymous()
        .run(ASK_RESET, json!({"e": "Owner@Example.fr"}))
        .await;
    assert_eq!(asked.data()["requestPasswordReset"], true);
    let token = app.mailed(PASSWORD_RESET, "owner@example.fr").await;
    let requested = recorded(&app, PASSWORD_RESET).await;
    assert_eq!(requested.len(), 1);
    assert_eq!(
        requested[0]["organisation_id"],
        json!(owner.organisation_id)
    );
    assert!(!requested[0].to_string().contains(&token));

    let unknown = app
        .anonymous()
        .run(
            RESET,
            json!({"t": "crm_pr_not-a-token", "p": "a brand new password"}),
        )
        .await;
    assert_eq!(unknown.error_code(), "NOT_FOUND");
    let short = app
        .anonymous()
        .run(RESET, json!({"t": token, "p": "short"}))
        .await;
    assert_eq!(short.error_code(), "VALIDATION");
    assert_eq!(short.errors()[0]["extensions"]["field"], "newPassword");

    let reset = app
        .anonymous()
        .run(RESET, json!({"t": token, "p": "a brand new password"}))
        .await;
    assert_eq!(reset.data()["resetPassword"], true);
    for old in [&owner.refresh_token, &laptop] {
        let refused = app.anonymous().run(REFRESH, json!({"t": old})).await;
        assert_eq!(refused.error_code(), "UNAUTHENTICATED");
    }
    let old_password = app
        .anonymous()
        .run(LOGIN, json!({"e": "owner@example.fr", "p": PASSWORD}))
        .await;
    assert_eq!(old_password.error_code(), "UNAUTHENTICATED");
    app.anonymous()
        .run(
            LOGIN,
            json!({"e": "owner@example.fr", "p": "a brand new password"}),
        )
        .await
        .data();
    let twice = app
        .anonymous()
        .run(RESET, json!({"t": token, "p": "yet another password"}))
        .await;
    assert_eq!(twice.error_code(), "NOT_FOUND");
}

#[tokio::test]
async fn asking_for_a_reset_never_tells_which_accounts_exist_and_is_bounded() {
    let app = spawn_app().await;
    app.sign_up("owner@example.fr", "Acme").await;
    let unknown = app
        .anonymous()
        .run(ASK_RESET, json!({"e": "nobody@example.fr"}))
        .await;
    let known = app
        .anonymous()
        .run(ASK_RESET, json!({"e": "owner@example.fr"}))
        .await;
    assert_eq!(unknown.status, known.status);
    assert_eq!(unknown.body, known.body);
    assert_eq!(recorded(&app, PASSWORD_RESET).await.len(), 1);
    let first = app.mailed(PASSWORD_RESET, "owner@example.fr").await;
    // A newer link ends the older one.
    app.anonymous()
        .run(ASK_RESET, json!({"e": "owner@example.fr"}))
        .await
        .data();
    let second = app.mailed(PASSWORD_RESET, "owner@example.fr").await;
    assert_ne!(first, second);
    let replaced = app
        .anonymous()
        .run(RESET, json!({"t": first, "p": "a brand new password"}))
        .await;
    assert_eq!(replaced.error_code(), "NOT_FOUND");
    // Three links an hour; the fourth request answers alike and sends nothing.
    for _ in 0..2 {
        let again = app
            .anonymous()
            .run(ASK_RESET, json!({"e": "owner@example.fr"}))
            .await;
        assert_eq!(again.body, known.body);
    }
    assert_eq!(recorded(&app, PASSWORD_RESET).await.len(), 3);
    // Aliases make no flood either: one credential mutation per operation.
    let flood = app
        .anonymous()
        .run(
            "mutation { a: requestPasswordReset(email: \"owner@example.fr\") b: requestPasswordReset(email: \"owner@example.fr\") }",
            json!({}),
        )
        .await;
    assert_eq!(flood.error_code(), "VALIDATION");
    let malformed = app
        .anonymous()
        .run(ASK_RESET, json!({"e": "not an address\u{0}"}))
        .await;
    assert_eq!(malformed.error_code(), "VALIDATION");
}

#[tokio::test]
async fn a_reset_link_is_its_own_accounts_only_and_mailed_in_its_organisation() {
    let app = spawn_app().await;
    let alice = app.sign_up("alice@example.fr", "Acme").await;
    let bob = app.sign_up("bob@example.fr", "Globex").await;
    app.anonymous()
        .run(ASK_RESET, json!({"e": "alice@example.fr"}))
        .await
        .data();
    let requested = recorded(&app, PASSWORD_RESET).await;
    assert_eq!(requested.len(), 1);
    assert_eq!(
        requested[0]["organisation_id"],
        json!(alice.organisation_id)
    );
    assert_ne!(requested[0]["organisation_id"], json!(bob.organisation_id));
    let token = app.mailed(PASSWORD_RESET, "alice@example.fr").await;
    // Bob, logged in, cannot use it for himself: it sets Alice's password, not his.
    bob.core
        .run(RESET, json!({"t": token, "p": "a brand new password"}))
        .await
        .data();
    app.anonymous()
        .run(LOGIN, json!({"e": "bob@example.fr", "p": PASSWORD}))
        .await
        .data();
    let alice_login = app
        .anonymous()
        .run(
            LOGIN,
            json!({"e": "alice@example.fr", "p": "a brand new password"}),
        )
        .await;
    assert_eq!(
        alice_login.data()["login"]["organisation"]["id"],
        json!(alice.organisation_id)
    );
}
