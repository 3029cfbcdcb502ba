//! Notifications from core's events, and what each user may see and change of them.

use serde_json::json;

use crate::helpers::*;

const LIST: &str = "query($unread: Boolean) { notifications(unreadOnly: $unread) { totalCount edges { node { id kind title message link read client { id } } } } unreadNotificationCount }";

#[tokio::test]
async fn a_new_client_notifies_the_owners_and_admins_once() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let admin = apps.join(&owner, "admin@example.fr", "ADMIN").await;
    let member = apps.join(&owner, "member@example.fr", "MEMBER").await;
    let client = create_client(&member, "Dupont").await;
    // organisation.created, member.joined ×2, client.created
    apps.wait_caught_up().await;

    for session in [&owner, &admin] {
        let response = session.run(LIST, json!({})).await;
        let data = response.data();
        assert_eq!(data["notifications"]["totalCount"], 1);
        let node = &data["notifications"]["edges"][0]["node"];
        assert_eq!(node["kind"], "NEW_CLIENT");
        assert_eq!(node["title"], "Nouveau client");
        assert_eq!(node["message"], "Jeanne Dupont a été ajouté à vos clients.");
        assert_eq!(
            node["link"],
            format!("/clients/{}", client["id"].as_str().unwrap())
        );
        assert_eq!(node["client"]["id"], client["id"]);
        assert_eq!(data["unreadNotificationCount"], 1);
    }
    let nothing = member.run(LIST, json!({})).await;
    assert_eq!(nothing.data()["notifications"]["totalCount"], 0);
    let rows: i64 = sqlx::query_scalar("select count(*) from notifications")
        .fetch_one(&apps.db.pool)
        .await
        .unwrap();
    assert_eq!(rows, 2);
}

#[tokio::test]
async fn notifications_are_marked_read_one_by_one_or_all_at_once() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    for name in ["Dupont", "Martin", "Durand"] {
        create_client(&owner, name).await;
    }
    apps.wait_caught_up().await;
    let listed = owner.run(LIST, json!({})).await;
    let first = listed.data()["notifications"]["edges"][0]["node"]["id"].clone();
    let mark = "mutation($id: ID!) { markNotificationRead(id: $id) { read readAt } }";
    assert_eq!(
        owner.run(mark, json!({"id": first})).await.data()["markNotificationRead"]["read"],
        true
    );
    assert_eq!(
        owner.run(mark, json!({"id": first})).await.data()["markNotificationRead"]["read"],
        true
    );
    let unread = owner.run(LIST, json!({"unread": true})).await;
    assert_eq!(unread.data()["notifications"]["totalCount"], 2);
    assert_eq!(unread.data()["unreadNotificationCount"], 2);
    let all = owner
        .run("mutation { markAllNotificationsRead }", json!({}))
        .await;
    assert_eq!(all.data()["markAllNotificationsRead"], 2);
    assert_eq!(
        owner.run(LIST, json!({})).await.data()["unreadNotificationCount"],
        0
    );
    let purged = owner
        .run("mutation { purgeReadNotifications(days: 1) }", json!({}))
        .await;
    assert_eq!(
        purged.data()["purgeReadNotifications"],
        0,
        "nothing older than a day yet"
    );
}

#[tokio::test]
async fn bad_input_and_missing_rights_are_refused() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let viewer = apps.join(&owner, "viewer@example.fr", "VIEWER").await;
    let mark = "mutation($id: ID!) { markNotificationRead(id: $id) { id } }";
    assert_eq!(
        owner.run(mark, json!({"id": "nope"})).await.error_code(),
        "VALIDATION"
    );
    assert_eq!(
        owner
            .run(mark, json!({"id": uuid::Uuid::new_v4().to_string()}))
            .await
            .error_code(),
        "NOT_FOUND"
    );
    assert_eq!(
        owner
            .run("mutation { purgeReadNotifications(days: 0) }", json!({}))
            .await
            .error_code(),
        "VALIDATION"
    );
    assert_eq!(
        viewer
            .run("mutation { purgeReadNotifications(days: 30) }", json!({}))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    let anonymous = crm_test_support::GraphqlClient::new(&apps.url)
        .run(LIST, json!({}))
        .await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
    let forged = crm_test_support::GraphqlClient::new(&apps.url)
        .with_token("forged")
        .run(LIST, json!({}))
        .await;
    assert_eq!(
        (forged.status, forged.error_code().as_str()),
        (401, "UNAUTHENTICATED")
    );
}

#[tokio::test]
async fn nobody_reads_or_changes_another_users_notifications() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let admin = apps.join(&owner, "admin@example.fr", "ADMIN").await;
    let intruder = apps.sign_up("intruder@example.fr", "Evil").await;
    create_client(&owner, "Dupont").await;
    apps.wait_caught_up().await;
    let owners = owner.run(LIST, json!({})).await;
    let id = owners.data()["notifications"]["edges"][0]["node"]["id"].clone();

    // Another organisation: sees nothing, changes nothing.
    assert_eq!(
        intruder.run(LIST, json!({})).await.data()["notifications"]["totalCount"],
        0
    );
    let mark = "mutation($id: ID!) { markNotificationRead(id: $id) { id } }";
    assert_eq!(
        intruder.run(mark, json!({"id": id})).await.error_code(),
        "NOT_FOUND"
    );
    assert_eq!(
        intruder
            .run("mutation { markAllNotificationsRead }", json!({}))
            .await
            .data()["markAllNotificationsRead"],
        0
    );
    // A colleague: not even within the organisation.
    assert_eq!(
        admin.run(mark, json!({"id": id})).await.error_code(),
        "NOT_FOUND"
    );
    let entities = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Notification { id } ... on User { unreadNotificationCount } } }";
    let foreign = intruder
        .run(
            entities,
            json!({"r": [{"__typename": "Notification", "id": id}]}),
        )
        .await;
    assert_eq!(foreign.data()["_entities"], json!([null]));
    let other_user = admin
        .run(
            entities,
            json!({"r": [{"__typename": "User", "id": owner.user_id}]}),
        )
        .await;
    assert_eq!(other_user.error_code(), "FORBIDDEN");
    let own = owner
        .run(
            entities,
            json!({"r": [{"__typename": "User", "id": owner.user_id}]}),
        )
        .await;
    assert_eq!(own.data()["_entities"][0]["unreadNotificationCount"], 1);
    assert_eq!(
        owner.run(LIST, json!({"unread": true})).await.data()["notifications"]["totalCount"],
        1
    );
}
