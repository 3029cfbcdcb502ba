//! End to end through the gateway: real HTTP from a client to hive-router to the core
//! subgraph and its PostgreSQL database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use crm_e2e::harness::{Stack, PASSWORD};
use serde_json::json;

const CREATE: &str = "mutation($input: CreateClientInput!) { createClient(input: $input) { id name addresses { city isDefault } } }";
const PAGE: &str = "query($first: Int, $after: String, $search: String) {
    clients(first: $first, after: $after, filter: {search: $search}) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { name email addresses { kind city } defaultAddress(kind: BILLING) { city } } }
    }
}";

#[tokio::test]
async fn a_user_signs_up_logs_in_creates_clients_and_pages_through_them() {
    let stack = Stack::start().await;
    let (_, signed_up) = stack.sign_up("owner@example.fr", "Acme").await;
    assert_eq!(signed_up["role"], "OWNER");

    let login = stack
        .client()
        .run(
            "mutation($input: LoginInput!) { login(input: $input) { token organisation { name } } }",
            json!({"input": {"email": "owner@example.fr", "password": PASSWORD}}),
        )
        .await;
    assert_eq!(login.data()["login"]["organisation"]["name"], "Acme");
    let owner = stack
        .client()
        .with_token(login.data()["login"]["token"].as_str().unwrap());

    let cities = ["Paris", "Lyon", "Lille", "Nantes", "Brest"];
    for (i, city) in cities.iter().enumerate() {
        let input = json!({
            "kind": "PERSON", "name": format!("Client{i}"), "firstName": "Test",
            "email": format!("client{i}@example.fr"), "phone": format!("06 10 20 30 4{i}"),
            "addresses": [
                {"kind": "BILLING", "line1": format!("{i} rue Haute"), "postalCode": "75001", "city": city},
                {"kind": "SHIPPING", "line1": "1 quai Bas", "postalCode": "44000", "city": "Nantes"},
            ]
        });
        let created = owner.run(CREATE, json!({"input": input})).await;
        assert_eq!(
            created.data()["createClient"]["addresses"][0]["isDefault"],
            true
        );
    }

    let first = owner.run(PAGE, json!({"first": 2})).await;
    let clients = &first.data()["clients"];
    assert_eq!(clients["totalCount"], 5);
    assert_eq!(clients["pageInfo"]["hasNextPage"], true);
    assert_eq!(clients["edges"][0]["node"]["name"], "Client0");
    assert_eq!(
        clients["edges"][0]["node"]["defaultAddress"]["city"],
        "Paris"
    );
    assert_eq!(
        clients["edges"][1]["node"]["addresses"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let rest = owner
        .run(
            PAGE,
            json!({"first": 10, "after": clients["pageInfo"]["endCursor"]}),
        )
        .await;
    let names: Vec<_> = rest.data()["clients"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Client2", "Client3", "Client4"]);

    let found = owner.run(PAGE, json!({"search": "client3@EXAMPLE"})).await;
    assert_eq!(found.data()["clients"]["totalCount"], 1);
    assert_eq!(
        found.data()["clients"]["edges"][0]["node"]["defaultAddress"]["city"],
        "Nantes"
    );
}

#[tokio::test]
async fn errors_keep_their_codes_through_the_gateway() {
    let stack = Stack::start().await;
    let (owner, _) = stack.sign_up("owner@example.fr", "Acme").await;
    let bad = owner
        .run(
            CREATE,
            json!({"input": {"kind": "PERSON", "name": "X", "firstName": "Y", "phone": "12"}}),
        )
        .await;
    assert_eq!(bad.error_code(), "VALIDATION");
    assert_eq!(bad.errors()[0]["extensions"]["field"], "phone");
    assert_eq!(
        bad.errors()[0]["message"],
        "not a valid phone number (e.g. 06 12 34 56 78 or +33 6 12 34 56 78)"
    );
    let anonymous = stack
        .client()
        .run("{ clients { totalCount } }", json!({}))
        .await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn the_gateway_refuses_tokens_it_cannot_verify() {
    let stack = Stack::start().await;
    let (owner, _) = stack.sign_up("owner@example.fr", "Acme").await;
    assert_eq!(
        owner.run("{ me { role } }", json!({})).await.data()["me"]["role"],
        "OWNER"
    );

    let impostor = subgraph_core::tokens::TokenIssuer::from_pem(
        &subgraph_core::tokens::generate_signing_key_pem().unwrap(),
        subgraph_kit::auth::TokenPolicy {
            issuer: "crm-core".into(),
            audience: "crm".into(),
        },
        chrono_hours(1),
    )
    .unwrap();
    let forged = impostor.issue(uuid::Uuid::new_v4(), None).unwrap().token;
    // Refused by the gateway itself: one error, never a subgraph call.
    for token in [forged.as_str(), "garbage"] {
        let response = stack
            .client()
            .with_token(token)
            .run("{ me { role } }", json!({}))
            .await;
        assert_eq!(response.status, 401, "{}", response.body);
        assert_eq!(response.error_code(), "UNAUTHENTICATED");
        assert_eq!(response.errors().len(), 1, "{}", response.body);
    }
    // Without a token, the anonymous operations still work through the gateway.
    let login = stack
        .client()
        .run("mutation { login(input: {email: \"owner@example.fr\", password: \"wrong password\"}) { token } }", json!({}))
        .await;
    assert_eq!(login.error_code(), "UNAUTHENTICATED");
    assert_eq!(login.errors()[0]["message"], "wrong e-mail or password");
}

fn chrono_hours(hours: i64) -> chrono::Duration {
    chrono::Duration::hours(hours)
}

#[tokio::test]
async fn organisations_do_not_see_each_other_through_the_gateway() {
    let stack = Stack::start().await;
    let (acme, _) = stack.sign_up("owner@acme.fr", "Acme").await;
    let (evil, _) = stack.sign_up("owner@evil.fr", "Evil").await;
    let created = acme
        .run(
            CREATE,
            json!({"input": {"kind": "COMPANY", "name": "Secret Client", "addresses": []}}),
        )
        .await;
    let id = created.data()["createClient"]["id"].clone();
    let read = evil
        .run(
            "query($id: ID!) { client(id: $id) { name } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(read.error_code(), "NOT_FOUND");
    let listed = evil.run(PAGE, json!({"search": "Secret"})).await;
    assert_eq!(listed.data()["clients"]["totalCount"], 0);
    let updated = evil
        .run(
            "mutation($id: ID!) { updateClient(id: $id, input: {name: \"Pwned\"}) { name } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(updated.error_code(), "NOT_FOUND");
    let still = acme
        .run(
            "query($id: ID!) { client(id: $id) { name } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(still.data()["client"]["name"], "Secret Client");
}

#[tokio::test]
async fn graphiql_health_readiness_and_request_ids_are_served() {
    let stack = Stack::start().await;
    let http = reqwest::Client::new();
    let page = http
        .get(stack.gateway.url())
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(page.status().is_success());
    let html = page.text().await.unwrap();
    assert!(
        html.to_lowercase().contains("graphiql"),
        "not GraphiQL: {}",
        &html[..html.len().min(300)]
    );

    for path in ["/health", "/readiness"] {
        let response = http
            .get(format!("{}{path}", stack.gateway.base_url()))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{path}");
    }

    // GET requests work for queries, and the request id comes back.
    let response = http
        .get(stack.gateway.url())
        .query(&[("query", "{ __typename }")])
        .header("x-request-id", "e2e-request-42")
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("e2e-request-42")
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["data"]["__typename"], "Query");
}

#[tokio::test]
async fn a_new_client_becomes_a_notification_read_across_subgraphs() {
    let stack = Stack::start().await;
    let (owner, _) = stack.sign_up("owner@example.fr", "Acme").await;
    let created = owner
        .run(CREATE, json!({"input": {"kind": "PERSON", "name": "Durand", "firstName": "Léa", "addresses": []}}))
        .await;
    let client_id = created.data()["createClient"]["id"].clone();

    // One query, three hops: core's User, engagement's notifications, core's Client again.
    let query = "{ me { user { email unreadNotificationCount notifications(first: 5) {
        edges { node { kind title link client { id name displayName } } } } } } }";
    let response = crm_test_support::wait_for(std::time::Duration::from_secs(20), || async {
        let response = owner.run(query, json!({})).await;
        (response.errors().is_empty()
            && response.body["data"]["me"]["user"]["unreadNotificationCount"] == 1)
            .then_some(response)
    })
    .await
    .expect("the notification arrives");
    let user = &response.data()["me"]["user"];
    assert_eq!(user["email"], "owner@example.fr");
    let node = &user["notifications"]["edges"][0]["node"];
    assert_eq!(node["kind"], "NEW_CLIENT");
    assert_eq!(node["client"]["id"], client_id);
    assert_eq!(node["client"]["name"], "Durand");
    assert_eq!(node["client"]["displayName"], "Léa Durand");

    // Another organisation sees none of it.
    let (intruder, _) = stack.sign_up("intruder@example.fr", "Evil").await;
    let theirs = intruder
        .run("{ notifications { totalCount } }", json!({}))
        .await;
    assert_eq!(theirs.data()["notifications"]["totalCount"], 0);
}

#[tokio::test]
async fn a_clients_tasks_and_timeline_come_from_engagement_in_the_same_query() {
    let stack = Stack::start().await;
    let (owner, _) = stack.sign_up("owner@example.fr", "Acme").await;
    let created = owner
        .run(
            CREATE,
            json!({"input": {"kind": "COMPANY", "name": "Boulangerie Petit", "addresses": []}}),
        )
        .await;
    let client_id = created.data()["createClient"]["id"].clone();
    for title in ["Relancer le devis", "Envoyer le contrat"] {
        owner
            .run(
                "mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }",
                json!({"input": {"title": title, "clientId": client_id, "kind": "FOLLOW_UP"}}),
            )
            .await
            .data();
    }
    let types = owner.run("{ activityTypes { id code } }", json!({})).await;
    let call = types.data()["activityTypes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "CALL")
        .unwrap()["id"]
        .clone();
    owner
        .run(
            "mutation($input: CreateActivityInput!) { createActivity(input: $input) { id } }",
            json!({"input": {"typeId": call, "occurredAt": "2026-03-01T10:00:00Z", "subject": "Premier appel", "clientId": client_id}}),
        )
        .await
        .data();
    let response = owner
        .run(
            "query($id: ID!) { client(id: $id) { name tasks { nodes { title status client { name } } } activities { nodes { subject type { code } } } } }",
            json!({"id": client_id}),
        )
        .await;
    let client = &response.data()["client"];
    assert_eq!(client["name"], "Boulangerie Petit");
    let titles: Vec<&str> = client["tasks"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 2);
    assert!(titles.contains(&"Relancer le devis") && titles.contains(&"Envoyer le contrat"));
    assert_eq!(
        client["tasks"]["nodes"][0]["client"]["name"],
        "Boulangerie Petit"
    );
    assert_eq!(
        client["activities"]["nodes"],
        json!([{"subject": "Premier appel", "type": {"code": "CALL"}}])
    );
}
