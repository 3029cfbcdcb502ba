//! Tasks: creation and assignment, guarded status changes, views and stats, bad input,
//! roles, and other organisations.

use serde_json::{json, Value};

use crate::helpers::*;

const CREATE: &str = "mutation($input: CreateTaskInput!) { createTask(input: $input) {
    id title status kind priority overdue assignee { id } client { id } } }";
const STATUS: &str = "mutation($id: ID!, $s: TaskStatus!) { changeTaskStatus(id: $id, status: $s) { status completedAt } }";

async fn create(session: &Session, input: Value) -> Value {
    session.run(CREATE, json!({"input": input})).await.data()["createTask"].clone()
}

async fn count_tasks(apps: &TestApps) -> i64 {
    sqlx::query_scalar("select count(*) from tasks")
        .fetch_one(&apps.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_assigned_task_notifies_its_assignee_and_moves_through_its_statuses() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let member = apps.join(&owner, "member@example.fr", "MEMBER").await;
    apps.wait_caught_up().await;
    let client_id = uuid::Uuid::new_v4().to_string();
    let task = create(
        &owner,
        json!({"title": "  Rappeler   Mme Durand ", "kind": "CALL", "priority": "HIGH",
               "assigneeId": member.user_id, "clientId": client_id, "dueAt": "2026-01-02T09:00:00Z"}),
    )
    .await;
    assert_eq!(task["title"], "Rappeler Mme Durand");
    assert_eq!(
        (task["status"].as_str(), task["overdue"].as_bool()),
        (Some("TODO"), Some(true))
    );
    assert_eq!(task["client"]["id"], client_id.as_str());

    let notified = member
        .run(
            "{ notifications { edges { node { kind message link } } } }",
            json!({}),
        )
        .await;
    let node = &notified.data()["notifications"]["edges"][0]["node"];
    assert_eq!(node["kind"], "TASK_ASSIGNED");
    assert_eq!(node["message"], "Rappeler Mme Durand");
    assert_eq!(
        node["link"],
        format!("/tasks/{}", task["id"].as_str().unwrap())
    );

    let id = task["id"].clone();
    assert_eq!(
        member
            .run(STATUS, json!({"id": id, "s": "IN_PROGRESS"}))
            .await
            .data()["changeTaskStatus"]["status"],
        "IN_PROGRESS"
    );
    let done = member.run(STATUS, json!({"id": id, "s": "DONE"})).await;
    assert!(done.data()["changeTaskStatus"]["completedAt"].is_string());
    for next in ["TODO", "IN_PROGRESS", "CANCELLED", "DONE"] {
        let refused = member.run(STATUS, json!({"id": id, "s": next})).await;
        assert_eq!(refused.error_code(), "INVALID_TRANSITION", "DONE -> {next}");
    }
    let edit = member
        .run(
            "mutation($id: ID!) { updateTask(id: $id, input: {title: \"x\"}) { id } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(edit.error_code(), "INVALID_TRANSITION");
}

#[tokio::test]
async fn views_and_stats_count_open_late_and_ended_tasks() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let past = "2020-01-01T00:00:00Z";
    let soon = (chrono::Utc::now() + chrono::Duration::hours(12)).to_rfc3339();
    let later = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let late = create(&owner, json!({"title": "late", "dueAt": past})).await;
    create(&owner, json!({"title": "soon", "dueAt": soon})).await;
    create(&owner, json!({"title": "later", "dueAt": later})).await;
    create(&owner, json!({"title": "undated"})).await;
    let ended = create(&owner, json!({"title": "ended late", "dueAt": past})).await;
    owner
        .run(STATUS, json!({"id": ended["id"], "s": "CANCELLED"}))
        .await
        .data();

    let titles = |response: &crm_test_support::GqlResponse| -> Vec<String> {
        response.data()["tasks"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let list =
        "query($f: TaskFilterInput, $after: String) { tasks(first: 2, filter: $f, after: $after) {
        totalCount pageInfo { endCursor hasNextPage } edges { node { title } } } }";
    let first = owner.run(list, json!({})).await;
    assert_eq!(titles(&first), ["late", "ended late"]);
    assert_eq!(first.data()["tasks"]["totalCount"], 5);
    let second = owner
        .run(
            list,
            json!({"after": first.data()["tasks"]["pageInfo"]["endCursor"]}),
        )
        .await;
    assert_eq!(titles(&second), ["soon", "later"]);
    let third = owner
        .run(
            list,
            json!({"after": second.data()["tasks"]["pageInfo"]["endCursor"]}),
        )
        .await;
    assert_eq!(titles(&third), ["undated"], "undated tasks come last");

    assert_eq!(
        titles(&owner.run(list, json!({"f": {"overdue": true}})).await),
        ["late"]
    );
    let due_soon = owner.run(list, json!({"f": {"dueWithinDays": 1}})).await;
    assert_eq!(titles(&due_soon), ["late", "soon"]);
    let cancelled = owner.run(list, json!({"f": {"status": "CANCELLED"}})).await;
    assert_eq!(titles(&cancelled), ["ended late"]);
    let stats = owner
        .run(
            "{ taskStats { todo inProgress done cancelled overdue total } }",
            json!({}),
        )
        .await;
    assert_eq!(
        stats.data()["taskStats"],
        json!({"todo": 4, "inProgress": 0, "done": 0, "cancelled": 1, "overdue": 1, "total": 5})
    );
    assert_eq!(late["overdue"], true);
}

#[tokio::test]
async fn bad_task_input_is_refused_and_writes_nothing() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let viewer = apps.join(&owner, "viewer@example.fr", "VIEWER").await;
    let stranger = apps.sign_up("stranger@example.fr", "Other").await;
    apps.wait_caught_up().await;
    let cases = [
        (json!({"title": "   "}), "title"),
        (json!({"title": "x".repeat(201)}), "title"),
        (
            json!({"title": "ok", "assigneeId": stranger.user_id}),
            "assigneeId",
        ),
        (json!({"title": "ok", "clientId": "not-an-id"}), "clientId"),
    ];
    for (input, field) in cases {
        let response = owner.run(CREATE, json!({"input": input})).await;
        assert_eq!(response.error_code(), "VALIDATION", "{field}");
        assert_eq!(response.errors()[0]["extensions"]["field"], field);
    }
    assert_eq!(
        viewer
            .run(CREATE, json!({"input": {"title": "ok"}}))
            .await
            .error_code(),
        "FORBIDDEN"
    );
    let bad_window = owner
        .run(
            "{ tasks(filter: {dueWithinDays: 999}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(bad_window.error_code(), "VALIDATION");
    assert_eq!(count_tasks(&apps).await, 0);
    let missing = owner
        .run(
            STATUS,
            json!({"id": uuid::Uuid::new_v4().to_string(), "s": "DONE"}),
        )
        .await;
    assert_eq!(missing.error_code(), "NOT_FOUND");
}

#[tokio::test]
async fn another_organisation_neither_sees_nor_changes_tasks() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let intruder = apps.sign_up("intruder@example.fr", "Evil").await;
    let client_id = uuid::Uuid::new_v4().to_string();
    let task = create(&owner, json!({"title": "secret", "clientId": client_id})).await;
    let id = task["id"].clone();
    let before: String = sqlx::query_scalar("select row(t.*)::text from tasks t")
        .fetch_one(&apps.db.pool)
        .await
        .unwrap();

    let not_found = [
        (
            "query($id: ID!) { task(id: $id) { title } }",
            json!({"id": id}),
        ),
        (
            "mutation($id: ID!) { updateTask(id: $id, input: {title: \"pwned\"}) { id } }",
            json!({"id": id}),
        ),
        (
            "mutation($id: ID!) { changeTaskStatus(id: $id, status: CANCELLED) { id } }",
            json!({"id": id}),
        ),
    ];
    for (query, variables) in not_found {
        assert_eq!(
            intruder.run(query, variables).await.error_code(),
            "NOT_FOUND",
            "{query}"
        );
    }
    let listed = intruder
        .run("{ tasks { totalCount } taskStats { total } }", json!({}))
        .await;
    assert_eq!(listed.data()["tasks"]["totalCount"], 0);
    assert_eq!(listed.data()["taskStats"]["total"], 0);
    let entities = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Task { title } ... on Client { tasks { totalCount nodes { title } } } } }";
    let foreign = intruder
        .run(entities, json!({"r": [{"__typename": "Task", "id": id}, {"__typename": "Client", "id": client_id}]}))
        .await;
    assert_eq!(
        foreign.data()["_entities"],
        json!([null, {"tasks": {"totalCount": 0, "nodes": []}}])
    );
    let own = owner
        .run(
            entities,
            json!({"r": [{"__typename": "Client", "id": client_id}]}),
        )
        .await;
    assert_eq!(
        own.data()["_entities"][0]["tasks"]["nodes"][0]["title"],
        "secret"
    );
    let after: String = sqlx::query_scalar("select row(t.*)::text from tasks t")
        .fetch_one(&apps.db.pool)
        .await
        .unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_clients_tasks_come_a_page_at_a_time_soonest_due_first() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let (a, b) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    for (title, due) in [
        ("undated 1", None),
        ("third", Some("2026-03-01T09:00:00Z")),
        ("first", Some("2026-01-01T09:00:00Z")),
        ("undated 2", None),
        ("second", Some("2026-02-01T09:00:00Z")),
    ] {
        create(&owner, json!({"title": title, "clientId": a, "dueAt": due})).await;
    }
    create(&owner, json!({"title": "of b", "clientId": b})).await;

    let page = "query($r: [_Any!]!, $after: String) { _entities(representations: $r) {
        ... on Client { tasks(first: 2, after: $after) {
            totalCount pageInfo { hasNextPage endCursor } nodes { title } } } } }";
    let both = json!([{"__typename": "Client", "id": a}, {"__typename": "Client", "id": b}]);
    let mut titles = Vec::new();
    let mut after = Value::Null;
    loop {
        let response = owner.run(page, json!({"r": both, "after": after})).await;
        let tasks = &response.data()["_entities"][0]["tasks"];
        assert_eq!(tasks["totalCount"], 5);
        titles.extend(
            tasks["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["title"].as_str().unwrap().to_owned()),
        );
        // Client b's page, asked alongside in the same batch, is its own.
        let theirs = &response.data()["_entities"][1]["tasks"];
        if after.is_null() {
            assert_eq!(theirs["totalCount"], 1);
            assert_eq!(theirs["nodes"][0]["title"], "of b");
        }
        if tasks["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = tasks["pageInfo"]["endCursor"].clone();
        assert!(titles.len() < 10, "paging never ends: {titles:?}");
    }
    assert_eq!(titles.len(), 5);
    assert_eq!(&titles[..3], ["first", "second", "third"]);
    let mut undated = titles[3..].to_vec();
    undated.sort();
    assert_eq!(undated, ["undated 1", "undated 2"]);

    // More than a hundred a page is refused, with the field named.
    let refused = owner
        .run(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Client { tasks(first: 101) { totalCount } } } }",
            json!({"r": [{"__typename": "Client", "id": a}]}),
        )
        .await;
    assert_eq!(refused.error_code(), "VALIDATION");
    assert_eq!(refused.errors()[0]["extensions"]["field"], "first");
}
