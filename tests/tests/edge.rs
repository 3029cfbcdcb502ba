//! The edge, tried as an attacker with a self-registered account would: deep and aliased
//! documents, several logins in one request, hostile text, oversized and multipart bodies —
//! through the gateway and straight against the subgraphs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use crm_e2e::harness::{Stack, PASSWORD};
use crm_test_support::graphql::GraphqlClient;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// `tasks → client → tasks → client …`, `levels` pairs deep.
fn deep_tasks(levels: usize) -> String {
    let mut inner = "id".to_owned();
    for _ in 0..levels {
        inner = format!("tasks(first: 2) {{ nodes {{ id client {{ id {inner} }} }} }}");
    }
    format!("{{ tasks(first: 100) {{ nodes {{ id client {{ id {inner} }} }} }} }}")
}

fn is_refused(body: &Value) -> bool {
    body["data"].is_null() && !body["errors"].as_array().is_none_or(Vec::is_empty)
}

#[tokio::test]
async fn deep_and_aliased_documents_are_refused_before_planning() {
    let stack = Stack::start().await;
    let (attacker, _) = stack.sign_up("attacker@edge.test", "Attaque").await;
    let (victim, _) = stack.sign_up("victim@edge.test", "Victime").await;

    // A legitimate nesting passes…
    let fine = attacker.run(&deep_tasks(1), json!({})).await;
    fine.data();
    // …six levels of it are refused at the gateway, before any subgraph works.
    let deep = attacker.run(&deep_tasks(6), json!({})).await;
    assert!(is_refused(&deep.body), "{}", deep.body);
    assert!(
        deep.body.to_string().to_lowercase().contains("depth"),
        "{}",
        deep.body
    );
    // Another tenant still gets answers.
    victim
        .run("{ clients(first: 5) { totalCount } }", json!({}))
        .await
        .data();

    // Aliases: a hundred copies of a field are refused.
    let aliased: String = (0..100)
        .map(|i| format!("a{i}: organisation {{ id }} "))
        .collect();
    let response = attacker.run(&format!("{{ {aliased} }}"), json!({})).await;
    assert!(is_refused(&response.body), "{}", response.body);

    // The same straight against a subgraph: its own alias limit.
    let core = GraphqlClient::new(stack.core.url());
    let response = core.run(&format!("{{ {aliased} }}"), json!({})).await;
    assert_eq!(response.error_code(), "VALIDATION", "{}", response.body);
    // And its own depth limit.
    let engagement = GraphqlClient::new(stack.engagement.url());
    let response = engagement.run(&deep_tasks(9), json!({})).await;
    assert!(is_refused(&response.body), "{}", response.body);
}

/// `tasks → client → tasks → client → tasks`, a hundred of each: a million tasks.
const AMPLIFIED: &str = "{ tasks(first: 100) { nodes { client { tasks(first: 100) { nodes {
    client { tasks(first: 100) { nodes { id title } } } } } } } } }";

#[tokio::test]
async fn a_query_multiplying_pages_is_priced_and_refused_before_it_runs() {
    let stack = Stack::start().await;
    let (attacker, _) = stack.sign_up("attacker@cost.test", "Attaque").await;
    let (victim, _) = stack.sign_up("victim@cost.test", "Victime").await;

    // Within the depth limit, but a million nodes: the gateway's estimate refuses it.
    let response = attacker.run(AMPLIFIED, json!({})).await;
    assert!(is_refused(&response.body), "{}", response.body);
    assert_eq!(
        response.error_code(),
        "COST_ESTIMATED_TOO_EXPENSIVE",
        "{}",
        response.body
    );
    // Pages are 100 at most.
    let too_many = attacker
        .run("{ tasks(first: 101) { totalCount } }", json!({}))
        .await;
    assert_eq!(too_many.error_code(), "VALIDATION", "{}", too_many.body);
    // The same page asked once is fine, and another tenant still gets answers.
    attacker
        .run(
            "{ tasks(first: 100) { nodes { client { tasks(first: 20) { totalCount } } } } }",
            json!({}),
        )
        .await
        .data();
    victim
        .run("{ clients(first: 5) { totalCount } }", json!({}))
        .await
        .data();

    // Straight against the subgraph (which resolves `Client.tasks` itself): its own price.
    let token = attacker.token.clone().unwrap();
    let engagement = GraphqlClient::new(stack.engagement.url()).with_token(token);
    let response = engagement.run(AMPLIFIED, json!({})).await;
    assert!(is_refused(&response.body), "{}", response.body);
    assert!(
        response.body.to_string().contains("complex"),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn one_credential_mutation_per_operation() {
    let stack = Stack::start().await;
    stack.sign_up("owner@edge.test", "Cible").await;
    let login = |alias: &str, password: &str| {
        format!(
            "{alias}: login(input: {{email: \"owner@edge.test\", password: \"{password}\"}}) {{ token }}"
        )
    };
    // 200 guesses in one request: refused by the gateway's alias limit.
    let guesses: String = (0..200)
        .map(|i| login(&format!("g{i}"), &format!("guess-{i}")))
        .collect();
    let response = stack
        .client()
        .run(&format!("mutation {{ {guesses} }}"), json!({}))
        .await;
    assert!(is_refused(&response.body), "{}", response.body);
    // Two, under the alias limit: refused by core, through the gateway and directly, even
    // when the second one is right.
    let two = format!(
        "mutation {{ {} {} }}",
        login("wrong", "not-it"),
        login("right", PASSWORD)
    );
    for client in [stack.client(), GraphqlClient::new(stack.core.url())] {
        let response = client.run(&two, json!({})).await;
        assert!(is_refused(&response.body), "{}", response.body);
        assert_eq!(response.error_code(), "VALIDATION", "{}", response.body);
    }
    // A login beside a sign-up is no better.
    let mixed = format!(
        "mutation {{ {} signUp(input: {{email: \"x@edge.test\", password: \"{PASSWORD}\", \
         firstName: \"X\", lastName: \"Y\", organisationName: \"Z\"}}) {{ email }} }}",
        login("l", PASSWORD)
    );
    let response = stack.client().run(&mixed, json!({})).await;
    assert_eq!(response.error_code(), "VALIDATION", "{}", response.body);
    let no_account = stack
        .client()
        .run(
            "mutation($password: String!) { login(input: {email: \"x@edge.test\", password: $password}) { token } }",
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(
        no_account.error_code(),
        "UNAUTHENTICATED",
        "nothing was signed up"
    );
    // One is fine.
    let one = stack
        .client()
        .run(
            &format!("mutation {{ {} }}", login("only", PASSWORD)),
            json!({}),
        )
        .await;
    assert!(one.data()["only"]["token"].is_string());
}

#[tokio::test]
async fn hostile_text_is_a_validation_error_and_changes_nothing() {
    let stack = Stack::start().await;
    let (owner, payload) = stack.sign_up("owner@text.test", "Texte Sûr").await;
    let name_now = || async {
        owner
            .run("{ organisation { name } }", json!({}))
            .await
            .data()["organisation"]["name"]
            .clone()
    };
    // A NUL byte, inline and as a variable.
    let inline = owner
        .run(
            r#"mutation { updateOrganisation(name: "a\u0000b") { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(inline.error_code(), "VALIDATION", "{}", inline.body);
    for hostile in ["\u{0}", "a\u{1b}[2J", "\u{202E}gpj.exe", "bell\u{7}"] {
        let response = owner
            .run(
                "mutation($name: String!) { updateOrganisation(name: $name) { name } }",
                json!({"name": hostile}),
            )
            .await;
        assert_eq!(
            response.error_code(),
            "VALIDATION",
            "{hostile:?}: {}",
            response.body
        );
        assert_eq!(response.errors()[0]["extensions"]["field"], "$name");
    }
    assert_eq!(name_now().await, "Texte Sûr");
    let organisation = payload["organisation"]["id"].as_str().unwrap();
    assert!(!organisation.is_empty());

    // Nested in an input object, in every subgraph.
    let client = owner
        .run(
            "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
            json!({"input": {"kind": "PERSON", "name": "Nul\u{0}", "firstName": "Zoé"}}),
        )
        .await;
    assert_eq!(client.error_code(), "VALIDATION", "{}", client.body);
    assert_eq!(client.errors()[0]["extensions"]["field"], "$input.name");
    for query in [
        "mutation($v: String!) { createProductRange(input: {name: $v}) { id } }",
        "mutation($v: String!) { createTask(input: {title: $v}) { id } }",
        "mutation($v: String!) { createInvoice(input: {societeId: \"00000000-0000-0000-0000-000000000000\", clientId: \"00000000-0000-0000-0000-000000000000\", notes: $v}) { id } }",
    ] {
        let response = owner.run(query, json!({"v": "x\u{0}y"})).await;
        assert_eq!(response.error_code(), "VALIDATION", "{query}: {}", response.body);
    }
    let clients = owner
        .run(
            "{ clients(first: 1) { totalCount } tasks(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(clients.data()["clients"]["totalCount"], 0);
    assert_eq!(clients.data()["tasks"]["totalCount"], 0);

    // Line breaks and accents are text, not hostility.
    let fine = owner
        .run(
            "mutation($name: String!) { updateOrganisation(name: $name) { name } }",
            json!({"name": "Cabinet\u{200B} Éloïse  &\nfils"}),
        )
        .await;
    assert_eq!(
        fine.data()["updateOrganisation"]["name"],
        "Cabinet Éloïse & fils"
    );
}

#[tokio::test]
async fn subgraphs_refuse_oversized_and_multipart_bodies() {
    let stack = Stack::start().await;
    let http = reqwest::Client::new();
    let big = format!(
        "{{\"query\": \"{{ __typename }}\", \"variables\": {{\"pad\": \"{}\"}}}}",
        "x".repeat(3 * 1024 * 1024)
    );
    for url in [
        stack.core.url(),
        stack.commercial.url(),
        stack.finance.url(),
        stack.engagement.url(),
    ] {
        let response = http
            .post(&url)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 413, "{url}");
        let multipart = http
            .post(&url)
            .header("content-type", "multipart/form-data; boundary=x")
            .body("--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"{ __typename }\"}\r\n--x--\r\n")
            .send()
            .await
            .unwrap();
        assert_eq!(multipart.status(), 415, "{url}");
        // An ordinary request still answers.
        let fine = GraphqlClient::new(url.clone())
            .run("{ __typename }", json!({}))
            .await;
        assert_eq!(fine.data()["__typename"], "Query", "{url}");
    }
    // The gateway has its own body limit.
    let response = http
        .post(stack.gateway.url())
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn statements_are_bounded_but_migrations_are_not() {
    let database = crm_test_support::db::TestDatabase::create(&subgraph_core::MIGRATOR).await;
    let mut settings = subgraph_kit::db::DatabaseSettings::new(&database.url);
    settings.statement_timeout_seconds = 1;
    let pool = subgraph_kit::db::connect_and_migrate(&settings, &subgraph_core::MIGRATOR)
        .await
        .unwrap();
    let timeout: String = sqlx::query_scalar("show statement_timeout")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(timeout, "1s");
    let cancelled = sqlx::query("select pg_sleep(3)")
        .execute(&pool)
        .await
        .unwrap_err();
    let code = cancelled
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.to_string());
    assert_eq!(code.as_deref(), Some("57014"), "{cancelled}");
    // The default bounds a subgraph's statements too.
    let default = subgraph_kit::db::DatabaseSettings::new(&database.url);
    assert_eq!(default.statement_timeout_seconds, 10);
}

#[tokio::test]
async fn a_request_that_takes_too_long_is_answered_503() {
    let mut http = subgraph_kit::server::HttpSettings::local(0);
    http.request_timeout_seconds = 1;
    let stuck = axum::Router::new().route(
        "/stuck",
        axum::routing::get(std::future::pending::<&'static str>),
    );
    let app = http.limit(stuck);
    let listener = http.bind().await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let response = reqwest::get(format!("http://{address}/stuck"))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn the_eleventh_failed_login_in_a_minute_is_rate_limited() {
    let stack = Stack::start().await;
    stack.sign_up("locked@edge.test", "Verrou").await;
    stack.sign_up("bystander@edge.test", "Voisin").await;
    let attempt = |email: &'static str, password: &'static str| {
        let http = reqwest::Client::new();
        let url = stack.gateway.url();
        async move {
            let response = http
                .post(url)
                .json(&json!({"query": "mutation($input: LoginInput!) { login(input: $input) { token } }",
                              "variables": {"input": {"email": email, "password": password}}}))
                .send()
                .await
                .unwrap();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            (response.json::<Value>().await.unwrap(), retry_after)
        }
    };
    let code = |body: &Value| body["errors"][0]["extensions"]["code"].clone();
    for _ in 0..10 {
        let (body, _) = attempt("locked@edge.test", "wrong-password").await;
        assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");
    }
    // The right password no longer helps, and the answer says when to come back.
    let (body, retry_after) = attempt("locked@edge.test", PASSWORD).await;
    assert_eq!(code(&body), "RATE_LIMITED", "{body}");
    let seconds = body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((1..=60).contains(&seconds), "{body}");
    assert_eq!(retry_after, Some(seconds), "Retry-After header");
    assert!(body["data"].is_null() || body["data"]["login"].is_null());
    // An e-mail nobody has is locked the same way: answers never tell which exist.
    for _ in 0..10 {
        attempt("nobody@edge.test", "wrong-password").await;
    }
    let (body, _) = attempt("nobody@edge.test", "wrong-password").await;
    assert_eq!(code(&body), "RATE_LIMITED", "{body}");
    // Someone else logs in as usual.
    let (body, _) = attempt("bystander@edge.test", PASSWORD).await;
    assert!(body["data"]["login"]["token"].is_string(), "{body}");
}

/// A login of an e-mail nobody has (each a different one: no per-e-mail lock applies).
fn guess(i: usize) -> Value {
    json!({"query": "mutation($input: LoginInput!) { login(input: $input) { token } }",
           "variables": {"input": {"email": format!("guess-{i}@address.test"), "password": "wrong-password"}}})
}

#[tokio::test]
async fn one_address_gets_sixty_credential_operations_a_minute_however_sent() {
    let stack = Stack::start().await;
    let (member, _) = stack.sign_up("member@address.test", "Adresse").await;
    let http = reqwest::Client::new();
    // The sign-up and its confirmation were the first two of this address's sixty.
    let mut admitted = 2;
    let refused = loop {
        let response = http
            .post(stack.gateway.url())
            .json(&guess(admitted))
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            break response;
        }
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{body}"
        );
        admitted += 1;
        assert!(admitted <= 60, "the 61st credential operation was admitted");
    };
    assert_eq!(admitted, 60);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{body}"
    );
    let retry_after = body["errors"][0]["extensions"]["retryAfter"]
        .as_u64()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{body}");

    // Neither a valid token, nor claiming another address, nor a path below the endpoint,
    // nor a WebSocket gets another guess.
    let with_token = member.run_with_headers(
        "mutation { login(input: {email: \"x@address.test\", password: \"wrong-password\"}) { token } }",
        json!({}),
        &[("x-forwarded-for", "198.51.100.23")],
    );
    assert_eq!(with_token.await.error_code(), "RATE_LIMITED");
    let below = http
        .post(format!("{}/other", stack.gateway.url()))
        .json(&guess(1000))
        .send()
        .await
        .unwrap();
    assert_ne!(
        below.status(),
        200,
        "a path below the endpoint is no way around"
    );
    let mut socket = stack.websocket().await.unwrap();
    socket
        .send(Message::text(
            json!({"type": "connection_init"}).to_string(),
        ))
        .await
        .unwrap();
    let mut over_ws = None;
    while let Some(Ok(frame)) = socket.next().await {
        let Message::Text(text) = frame else { continue };
        let message: Value = serde_json::from_str(&text).unwrap();
        match message["type"].as_str() {
            Some("connection_ack") => {
                let subscribe = json!({"id": "1", "type": "subscribe", "payload": guess(1001)});
                socket
                    .send(Message::text(subscribe.to_string()))
                    .await
                    .unwrap();
            }
            Some("next" | "error") => {
                over_ws = Some(message);
                break;
            }
            _ => {}
        }
    }
    let over_ws = over_ws.expect("an answer over the WebSocket");
    assert!(over_ws.to_string().contains("RATE_LIMITED"), "{over_ws}");

    // Other operations with a token go on.
    member
        .run("{ clients(first: 1) { totalCount } }", json!({}))
        .await
        .data();
}
