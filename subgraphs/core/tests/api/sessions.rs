//! Sessions: refresh tokens rotated on use and bound to the membership, logout, and the
//! password change that ends every session.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, PASSWORD};

const REFRESH: &str = "mutation($t: String!) { refreshSession(refreshToken: $t) {
    token refreshToken expiresAt refreshExpiresAt role organisation { id } } }";

async fn refresh(app: &TestApp, token: &str) -> crm_test_support::graphql::GqlResponse {
    app.anonymous().run(REFRESH, json!({"t": token})).await
}

fn next(response: &crm_test_support::graphql::GqlResponse) -> (String, String) {
    let data = &response.data()["refreshSession"];
    (
        data["token"].as_str().unwrap().to_owned(),
        data["refreshToken"].as_str().unwrap().to_owned(),
    )
}

async fn live_tokens(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "select count(*) from refresh_tokens t join refresh_families f on f.id = t.family_id
         where f.revoked_at is null and t.used_at is null",
    )
    .fetch_one(&app.core_db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_refresh_token_works_once_and_a_reused_one_ends_the_session() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    assert!(owner.refresh_token.starts_with("crm_rt_"));
    // Only its digest is stored.
    let stored: i64 =
        sqlx::query_scalar("select count(*) from refresh_tokens where token_hash = $1::bytea")
            .bind(owner.refresh_token.as_bytes())
            .fetch_one(&app.core_db.pool)
            .await
            .unwrap();
    assert_eq!(stored, 0);

    let first = refresh(&app, &owner.refresh_token).await;
    let data = first.data()["refreshSession"].clone();
    assert_eq!(data["role"], "OWNER");
    assert_eq!(data["organisation"]["id"], owner.organisation_id.as_str());
    let (access, second) = next(&first);
    assert_ne!(second, owner.refresh_token);
    let me = app
        .anonymous()
        .with_token(access)
        .run("{ me { organisation { name } } }", json!({}))
        .await;
    assert_eq!(me.data()["me"]["organisation"]["name"], "Acme");

    // The used token again: someone holds a copy. Refused, and the whole family ends.
    let replayed = refresh(&app, &owner.refresh_token).await;
    assert_eq!(
        replayed.error_code(),
        "UNAUTHENTICATED",
        "{}",
        replayed.body
    );
    assert_eq!(refresh(&app, &second).await.error_code(), "UNAUTHENTICATED");
    assert_eq!(live_tokens(&app).await, 0);
}

#[tokio::test]
async fn a_refresh_follows_the_membership_role_and_ends_with_it() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let admin = app.join(&owner, "admin@example.fr", "ADMIN").await;

    owner
        .core
        .run(
            "mutation($u: ID!) { updateMemberRole(userId: $u, role: VIEWER) { role } }",
            json!({"u": admin.user_id}),
        )
        .await
        .data();
    let demoted = refresh(&app, &admin.refresh_token).await;
    assert_eq!(demoted.data()["refreshSession"]["role"], "VIEWER");
    let (_, next_refresh) = next(&demoted);

    owner
        .core
        .run(
            "mutation($u: ID!) { removeMember(userId: $u) }",
            json!({"u": admin.user_id}),
        )
        .await
        .data();
    let removed = refresh(&app, &next_refresh).await;
    assert_eq!(removed.error_code(), "UNAUTHENTICATED", "{}", removed.body);
    // The owner's session is untouched.
    refresh(&app, &owner.refresh_token).await.data();
}

#[tokio::test]
async fn logout_ends_the_session_and_says_nothing_about_unknown_tokens() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let other = app.sign_up("other@example.fr", "Globex").await;
    let logout = "mutation($t: String!) { logout(refreshToken: $t) }";
    for token in ["crm_rt_unknown", "", &owner.refresh_token] {
        let out = app.anonymous().run(logout, json!({"t": token})).await;
        assert_eq!(out.data()["logout"], true);
    }
    assert_eq!(
        refresh(&app, &owner.refresh_token).await.error_code(),
        "UNAUTHENTICATED"
    );
    // Another organisation's session lives on.
    let theirs = refresh(&app, &other.refresh_token).await;
    assert_eq!(
        theirs.data()["refreshSession"]["organisation"]["id"],
        other.organisation_id.as_str()
    );
}

#[tokio::test]
async fn bad_refresh_tokens_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let before = live_tokens(&app).await;
    for token in ["", "   ", "crm_rt_", "not a token", &owner.token] {
        let response = refresh(&app, token).await;
        assert_eq!(response.error_code(), "UNAUTHENTICATED", "{token}");
    }
    assert_eq!(live_tokens(&app).await, before);
    // One credential mutation per operation: no batch of refresh guesses.
    let batch = app
        .anonymous()
        .run(
            "mutation($t: String!) { a: refreshSession(refreshToken: $t) { token } b: refreshSession(refreshToken: $t) { token } }",
            json!({"t": owner.refresh_token}),
        )
        .await;
    assert_eq!(batch.error_code(), "VALIDATION", "{}", batch.body);
    assert_eq!(live_tokens(&app).await, before);
}

async fn login(app: &TestApp, password: &str) -> crm_test_support::graphql::GqlResponse {
    app.anonymous()
        .run(
            "mutation($p: String!) { login(input: {email: \"owner@example.fr\", password: $p}) { refreshToken } }",
            json!({"p": password}),
        )
        .await
}

#[tokio::test]
async fn a_password_change_ends_every_other_session() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let laptop = login(&app, PASSWORD).await.data()["login"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token refreshToken role } }";

    let wrong = owner
        .core
        .run(
            change,
            json!({"c": "not my password", "n": "a new long password"}),
        )
        .await;
    assert_eq!(wrong.error_code(), "VALIDATION");
    assert_eq!(wrong.errors()[0]["extensions"]["field"], "currentPassword");
    let short = owner
        .core
        .run(change, json!({"c": PASSWORD, "n": "short"}))
        .await;
    assert_eq!(short.errors()[0]["extensions"]["field"], "newPassword");
    // Nothing changed yet: the laptop's session still refreshes (into its next token).
    let (_, laptop) = next(&refresh(&app, &laptop).await);

    let changed = owner
        .core
        .run(change, json!({"c": PASSWORD, "n": "a new long password"}))
        .await;
    let payload: Value = changed.data()["changePassword"].clone();
    assert_eq!(payload["role"], "OWNER");
    for old in [&owner.refresh_token, &laptop] {
        assert_eq!(refresh(&app, old).await.error_code(), "UNAUTHENTICATED");
    }
    refresh(&app, payload["refreshToken"].as_str().unwrap())
        .await
        .data();
    assert_eq!(login(&app, PASSWORD).await.error_code(), "UNAUTHENTICATED");
    login(&app, "a new long password").await.data();
    // Anonymous callers change nobody's password.
    let anonymous = app
        .anonymous()
        .run(change, json!({"c": PASSWORD, "n": "another long password"}))
        .await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_token_minted_while_its_session_is_revoked_is_dead_with_it() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let pool = &app.core_db.pool;
    // A rotation in flight: it holds its family and has minted the next token, uncommitted.
    let mut rotation = pool.begin().await.unwrap();
    let lifetimes = subgraph_core::ops::session::Lifetimes {
        refresh: chrono::Duration::days(1),
        session: chrono::Duration::days(2),
    };
    let rotated =
        subgraph_core::ops::session::rotate(&mut rotation, &owner.refresh_token, lifetimes)
            .await
            .unwrap();
    // Meanwhile the password changes: every session of the user is revoked.
    let user_id: uuid::Uuid = owner.user_id.parse().unwrap();
    let revoking = tokio::spawn({
        let pool = pool.clone();
        async move { subgraph_core::db::refresh_token::revoke_user(&pool, user_id).await }
    });
    // The revocation waits for the family the rotation holds…
    let waiting = crm_test_support::wait_for(std::time::Duration::from_secs(10), || async {
        let waiting: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity
             where wait_event_type = 'Lock' and query like 'update refresh_families%'",
        )
        .fetch_one(pool)
        .await
        .ok()?;
        (waiting > 0).then_some(())
    })
    .await;
    assert!(
        waiting.is_some(),
        "the revocation never waited for the rotation"
    );
    // …and, once the rotation commits, revokes the family the new token belongs to.
    rotation.commit().await.unwrap();
    assert_eq!(revoking.await.unwrap().unwrap(), 1);
    let refused = refresh(&app, &rotated.next.secret).await;
    assert_eq!(refused.error_code(), "UNAUTHENTICATED", "{}", refused.body);
}

#[tokio::test]
async fn a_session_ends_after_its_maximum_lifetime_however_often_refreshed() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let (_, token) = next(&refresh(&app, &owner.refresh_token).await);
    // The session began 89 days ago: still alive, but its next token ends with it.
    sqlx::query("update refresh_families set created_at = now() - interval '89 days'")
        .execute(&app.core_db.pool)
        .await
        .unwrap();
    let last = refresh(&app, &token).await;
    let until: chrono::DateTime<chrono::Utc> = last.data()["refreshSession"]["refreshExpiresAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let left = until - chrono::Utc::now();
    assert!(
        left <= chrono::Duration::days(1) && left > chrono::Duration::hours(23),
        "{left}"
    );
    // Ninety days in, it is over.
    sqlx::query("update refresh_families set created_at = now() - interval '90 days'")
        .execute(&app.core_db.pool)
        .await
        .unwrap();
    let (_, token) = next(&last);
    assert_eq!(refresh(&app, &token).await.error_code(), "UNAUTHENTICATED");
}
