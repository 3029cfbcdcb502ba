//! The gateway's two profiles: the production one (compose) differs from the development one
//! only where production must not expose anything — no introspection, no GraphiQL, CSRF with
//! a required header, CORS for configured origins — and does what it says on a running stack.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use std::collections::HashMap;

use crm_e2e::{
    catalogue::{repo_root, SUPERGRAPH_PATH},
    gateway::{start_gateway_with, DEVELOPMENT_CONFIG, PRODUCTION_CONFIG},
    harness::Stack,
};
use crm_test_support::graphql::GraphqlClient;
use serde_json::json;
use serde_yaml::Value;

fn profile(path: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join(path)).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// The keys (a path of mapping keys) where the profiles may differ.
const PRODUCTION_ONLY: [&[&str]; 4] = [
    &["introspection"],
    &["csrf", "required_headers"],
    &["cors"],
    &["plugins", "crm_pages", "config", "graphiql"],
];

fn remove(value: &mut Value, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = value;
    for key in parents {
        match node.get_mut(*key) {
            Some(child) => node = child,
            None => return,
        }
    }
    if let Some(map) = node.as_mapping_mut() {
        map.remove(*last);
    }
}

#[test]
fn the_profiles_differ_only_where_production_hides_things() {
    let mut development = profile(DEVELOPMENT_CONFIG);
    let mut production = profile(PRODUCTION_CONFIG);
    assert_eq!(production["introspection"], Value::Bool(false));
    assert_eq!(
        production["plugins"]["crm_pages"]["config"]["graphiql"],
        Value::Bool(false)
    );
    assert_eq!(
        development["plugins"]["crm_pages"]["config"]["graphiql"],
        Value::Bool(true)
    );
    assert!(production["cors"]["allow_any_origin"] == Value::Bool(false));
    for path in PRODUCTION_ONLY {
        remove(&mut development, path);
        remove(&mut production, path);
    }
    assert_eq!(
        development, production,
        "router.production.yaml drifted from router.config.yaml outside {PRODUCTION_ONLY:?}"
    );
}

#[tokio::test]
async fn production_hides_the_schema_and_the_ide_and_guards_browsers() {
    let stack = Stack::start().await;
    let urls: HashMap<String, String> = [
        ("core", stack.core.url()),
        ("commercial", stack.commercial.url()),
        ("finance", stack.finance.url()),
        ("engagement", stack.engagement.url()),
    ]
    .into_iter()
    .map(|(name, url)| (name.to_owned(), url))
    .collect();
    let production = start_gateway_with(
        PRODUCTION_CONFIG,
        &repo_root().join(SUPERGRAPH_PATH),
        &urls,
        &stack.core.jwks_url(),
        0,
        None,
    )
    .await
    .unwrap();
    let introspection = "{ __schema { queryType { name } } }";

    // Development: introspection answers.
    let dev = stack.client().run(introspection, json!({})).await;
    assert_eq!(dev.data()["__schema"]["queryType"]["name"], "Query");

    // Production: refused, anonymous or not; ordinary operations answer.
    let anonymous = GraphqlClient::new(production.url());
    let refused = anonymous.run(introspection, json!({})).await;
    assert!(
        refused.body["data"]["__schema"].is_null(),
        "{}",
        refused.body
    );
    assert!(!refused.errors().is_empty(), "{}", refused.body);
    let (owner, _) = stack.sign_up("owner@prod.test", "Production").await;
    let owner = GraphqlClient::new(production.url()).with_token(owner.token.unwrap());
    let refused = owner.run(introspection, json!({})).await;
    assert!(
        refused.body["data"]["__schema"].is_null(),
        "{}",
        refused.body
    );
    let answered = owner
        .run("{ clients(first: 1) { totalCount } }", json!({}))
        .await;
    assert_eq!(answered.data()["clients"]["totalCount"], 0);

    let http = reqwest::Client::new();
    // No IDE: a browser asking for the endpoint gets no page, and no asset is served.
    let page = http
        .get(production.url())
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let content_type = page
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = page.text().await.unwrap();
    assert!(
        !content_type.starts_with("text/html") && !body.contains("GraphiQL"),
        "{content_type}: {body}"
    );
    let dev_page = http
        .get(stack.gateway.url())
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let asset = dev_page
        .split('"')
        .find(|part| part.starts_with("/graphiql/") && part.ends_with(".js"))
        .expect("the development page names its scripts")
        .to_owned();
    let dev_asset = http
        .get(format!("{}{asset}", stack.gateway.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(dev_asset.status(), 200);
    let prod_asset = http
        .get(format!("{}{asset}", production.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(prod_asset.status(), 404);

    // CSRF: a GET query needs the header a cross-site form cannot send.
    let get = |headers: &'static [(&'static str, &'static str)]| {
        let mut request = http
            .get(production.url())
            .query(&[("query", "{ __typename }")])
            .header("accept", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    assert_eq!(get(&[]).await.unwrap().status(), 403);
    let allowed = get(&[("x-crm-client", "web")]).await.unwrap();
    assert_eq!(allowed.status(), 200);
    let body: serde_json::Value = allowed.json().await.unwrap();
    assert_eq!(body["data"]["__typename"], "Query");

    // CORS: the configured origin is allowed, another is not.
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, production.url())
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("https://crm.example.fr").await.unwrap();
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://crm.example.fr")
    );
    let foreign = preflight("https://evil.example").await.unwrap();
    let foreign_origin = foreign
        .headers()
        .get("access-control-allow-origin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert!(
        foreign_origin.is_none() || foreign_origin.as_deref() == Some("null"),
        "{foreign_origin:?}"
    );
}
