//! GraphiQL served by the gateway from its own binary: the page and every file it loads come
//! from the gateway, nothing from the internet, and it works in a real browser — a query
//! across subgraphs with the Authorization header set in its Headers tab, and a live
//! subscription.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use std::path::PathBuf;

use crm_e2e::{
    browser::Browser,
    catalogue::repo_root,
    harness::{Stack, PROBE_TITLE},
};
use serde_json::{json, Value};
use uuid::Uuid;

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// The quoted strings of `text` that start with `prefix`.
fn quoted_starting_with<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.split(['"', '\''])
        .filter(|s| s.starts_with(prefix))
        .collect()
}

/// `http(s)://` URLs in `text` other than XML namespaces (which are names, never fetched).
fn external_urls(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for scheme in ["http://", "https://"] {
        for (at, _) in text.match_indices(scheme) {
            let url: String = text[at..]
                .chars()
                .take_while(|c| !matches!(c, '"' | '\'' | ')' | ' ' | '>' | '\n'))
                .collect();
            if !url.starts_with("http://www.w3.org/") {
                found.push(url);
            }
        }
    }
    found
}

#[tokio::test]
async fn the_page_and_every_file_it_references_come_from_the_gateway() {
    let stack = Stack::start().await;
    let http = reqwest::Client::new();
    let base = stack.gateway.base_url();

    let page = http
        .get(stack.gateway.url())
        .header("accept", BROWSER_ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let header = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&page, "cache-control"), "no-cache");
    assert!(header(&page, "content-security-policy").contains("default-src 'self'"));
    let html = page.text().await.unwrap();
    assert_eq!(external_urls(&html), Vec::<String>::new(), "{html}");

    // The page's own references, and the editor workers its start script names under the
    // versioned asset path it is given.
    let mut paths: Vec<String> = quoted_starting_with(&html, "/graphiql/")
        .into_iter()
        .filter(|path| {
            [".js", ".css", ".svg"]
                .iter()
                .any(|kind| path.ends_with(kind))
        })
        .map(str::to_owned)
        .collect();
    let assets = html
        .split("data-assets=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the start script is given the asset path")
        .to_owned();
    let script_path = paths
        .iter()
        .find(|p| p.ends_with("/crm-graphiql.js"))
        .expect("the start script")
        .clone();
    let script = http
        .get(format!("{base}{script_path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let workers = quoted_starting_with(&script, "/monacoeditorwork/");
    assert_eq!(workers.len(), 3, "{script}");
    paths.extend(workers.iter().map(|w| format!("{assets}{w}")));
    assert_eq!(paths.len(), 7, "{paths:?}");

    for path in &paths {
        let response = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let expected = match path.rsplit('.').next() {
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("svg") => "image/svg+xml",
            other => panic!("unexpected asset kind {other:?} for {path}"),
        };
        assert_eq!(header(&response, "content-type"), expected, "{path}");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert_eq!(
            header(&response, "cache-control"),
            "public, max-age=31536000, immutable",
            "{path}"
        );
        let body = response.bytes().await.unwrap();
        assert!(!body.is_empty(), "{path}");
        if path.ends_with(".css") {
            let css = String::from_utf8_lossy(&body);
            assert_eq!(external_urls(&css), Vec::<String>::new(), "{path}");
        }
    }

    let notices = http
        .get(format!("{base}/graphiql/THIRD-PARTY-NOTICES.md"))
        .send()
        .await
        .unwrap();
    assert_eq!(notices.status(), 200);
    assert!(notices
        .text()
        .await
        .unwrap()
        .contains("@graphql-yoga/graphiql"));
    let missing = http
        .get(format!("{base}{assets}/nothing-here.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // The router's own landing page (it links to CDNs) is never shown: the root leads to
    // GraphiQL, any other unknown path is a plain 404.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let root = no_redirects
        .get(format!("{base}/"))
        .header("accept", BROWSER_ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 303);
    assert_eq!(header(&root, "location"), "/graphql");
    let unknown = http
        .get(format!("{base}/no/such/page"))
        .header("accept", BROWSER_ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let body = unknown.text().await.unwrap();
    assert!(external_urls(&body).is_empty(), "{body}");
    let health = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200, "probes still answer");
}

#[tokio::test]
async fn operations_are_never_answered_with_the_page() {
    let stack = Stack::start().await;
    let http = reqwest::Client::new();
    for accept in [
        "application/json",
        "application/graphql-response+json",
        "text/event-stream",
        "multipart/mixed",
    ] {
        let response = http
            .get(format!("{}?query=%7B__typename%7D", stack.gateway.url()))
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(!content_type.starts_with("text/html"), "{accept}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("<html"), "{accept}: {body}");
        if accept.contains("json") {
            assert!(body.contains("__typename"), "{accept}: {body}");
        }
    }
    // A persisted document asked for by a browser is still an operation.
    let response = http
        .get(format!("{}?documentId=sha256:abc", stack.gateway.url()))
        .header("accept", BROWSER_ACCEPT)
        .send()
        .await
        .unwrap();
    let body = response.text().await.unwrap();
    assert!(!body.contains("<html"), "{body}");
}

/// Sets GraphiQL's Headers tab to `headers` (typed into its editor).
async fn set_headers(browser: &mut Browser, headers: &Value) {
    browser
        .click(".graphiql-editor-tools button[data-name=headers]")
        .await
        .unwrap();
    let editor = ".graphiql-editor-tool .graphiql-editor:not(.hidden)";
    browser
        .wait_for(
            &format!("!!document.querySelector('{editor} textarea')"),
            "the headers editor",
        )
        .await
        .unwrap();
    browser.focus(&format!("{editor} textarea")).await.unwrap();
    browser.clear().await.unwrap();
    browser.insert_text(&headers.to_string()).await.unwrap();
}

/// Replaces the operation in GraphiQL's editor with `document`.
async fn set_operation(browser: &mut Browser, document: &str) {
    browser
        .focus(".graphiql-query-editor textarea")
        .await
        .unwrap();
    browser.clear().await.unwrap();
    browser.insert_text(document).await.unwrap();
    // GraphiQL mirrors the edited document in the address once it has taken the edit in
    // (operation name included): only then does the run button run it.
    let document_json = serde_json::to_string(document).unwrap();
    browser
        .wait_for(
            &format!("new URLSearchParams(location.search).get('query') === {document_json}"),
            "GraphiQL to take the edited document",
        )
        .await
        .unwrap();
}

/// The text of GraphiQL's response pane once it contains `expected`.
async fn response_containing(browser: &mut Browser, expected: &str) -> String {
    let expected_json = serde_json::to_string(expected).unwrap();
    let text = browser
        .wait_for(
            &format!(
                "(() => {{ const pane = document.querySelector('.graphiql-response .view-lines'); \
                 const text = pane ? pane.innerText.replace(/\\u00a0/g, ' ') : ''; \
                 return text.includes({expected_json}) ? text : ''; }})()"
            ),
            &format!("a response containing {expected}"),
        )
        .await;
    match text {
        Ok(text) => text.as_str().unwrap_or_default().to_owned(),
        Err(err) => {
            let _ = browser.screenshot(&screenshot_path("failure")).await;
            panic!("{err:#}\npage errors: {:?}", browser.page_errors());
        }
    }
}

fn screenshot_path(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    target
        .join("screenshots")
        .join(format!("graphiql-{name}.png"))
}

const CROSS_SUBGRAPH: &str = "{ me { organisation { name } } clients(first: 5) { nodes { \
    displayName contracts { nodes { reference } } invoices { nodes { number } } \
    tasks { nodes { title } } } } }";
const SUBSCRIPTION: &str =
    "subscription { notificationAdded { kind title client { displayName tasks { nodes { title } } } } }";

#[tokio::test]
async fn graphiql_in_a_browser_queries_across_subgraphs_and_streams_notifications() {
    let stack = Stack::start().await;
    let (acme, signed_up) = stack.sign_up("owner@acme.fr", "Acme").await;
    let (globex, _) = stack.sign_up("owner@globex.fr", "Globex").await;
    let client = acme
        .run(
            "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
            json!({"input": {"kind": "PERSON", "name": "Durand", "firstName": "Léa"}}),
        )
        .await;
    let client_id = client.data()["createClient"]["id"].clone();
    acme.run(
        "mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }",
        json!({"input": {"title": "Rappeler Léa", "clientId": client_id}}),
    )
    .await
    .data();
    let token = acme.token.clone().unwrap();
    let organisation: Uuid = signed_up["organisation"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let user: Uuid = signed_up["user"]["id"].as_str().unwrap().parse().unwrap();

    let mut browser = Browser::launch().await.unwrap();
    browser.navigate(&stack.gateway.url()).await.unwrap();
    browser
        .wait_for(
            "!!document.querySelector('.graphiql-execute-button') \
             && !!document.querySelector('.graphiql-query-editor .view-lines')",
            "GraphiQL to render",
        )
        .await
        .unwrap();
    let opening = browser
        .evaluate("document.querySelector('.graphiql-query-editor .view-lines').innerText")
        .await
        .unwrap();
    assert!(
        opening.as_str().unwrap_or_default().contains("login("),
        "the default document shows how to log in: {opening}"
    );

    set_headers(
        &mut browser,
        &json!({"Authorization": format!("Bearer {token}")}),
    )
    .await;
    set_operation(&mut browser, CROSS_SUBGRAPH).await;
    browser.click(".graphiql-execute-button").await.unwrap();
    let result = response_containing(&mut browser, "Rappeler Léa").await;
    for expected in ["\"Acme\"", "Léa Durand", "\"contracts\"", "\"invoices\""] {
        assert!(result.contains(expected), "{expected} in {result}");
    }
    assert!(!result.contains("\"errors\""), "{result}");

    set_operation(&mut browser, SUBSCRIPTION).await;
    browser.click(".graphiql-execute-button").await.unwrap();
    // Probes until one shows: from then on the subscription is established end to end.
    let probe_shown = format!(
        "new Promise(resolve => {{ \
           const shown = () => {{ const pane = document.querySelector('.graphiql-response .view-lines'); \
             return !!pane && pane.innerText.includes('{PROBE_TITLE}'); }}; \
           if (shown()) return resolve(true); \
           const observer = new MutationObserver(() => {{ if (shown()) {{ observer.disconnect(); resolve(true); }} }}); \
           observer.observe(document.body, {{subtree: true, childList: true, characterData: true}}); \
           setTimeout(() => {{ observer.disconnect(); resolve(shown()); }}, 250); }})"
    );
    let mut live = false;
    for _ in 0..120 {
        stack.publish_notification_probe(organisation, user).await;
        if browser.evaluate(&probe_shown).await.unwrap() == Value::Bool(true) {
            live = true;
            break;
        }
    }
    assert!(live, "the subscription never showed a probe");
    // Every text the response pane shows from now on.
    browser
        .evaluate(
            "window.crmShown = []; new MutationObserver(() => { \
               const pane = document.querySelector('.graphiql-response .view-lines'); \
               if (pane) window.crmShown.push(pane.innerText); \
             }).observe(document.body, {subtree: true, childList: true, characterData: true}); true",
        )
        .await
        .unwrap();

    // Another organisation's new client never reaches Acme's subscriber; Acme's does.
    globex
        .run(
            "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
            json!({"input": {"kind": "COMPANY", "name": "Globex Industries"}}),
        )
        .await
        .data();
    acme.run(
        "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
        json!({"input": {"kind": "COMPANY", "name": "Boulangerie Petit"}}),
    )
    .await
    .data();
    let event = response_containing(&mut browser, "Boulangerie Petit").await;
    assert!(event.contains("NEW_CLIENT"), "{event}");
    let leaked = browser
        .evaluate("window.crmShown.some(text => text.includes('Globex'))")
        .await
        .unwrap();
    assert_eq!(leaked, Value::Bool(false), "Globex's client reached Acme");

    let shot = screenshot_path("subscription");
    browser.screenshot(&shot).await.unwrap();
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);

    let outside: Vec<String> = browser
        .requested_urls()
        .into_iter()
        .filter(|url| {
            !(url.starts_with(&stack.gateway.base_url())
                || url.starts_with("data:")
                || url.starts_with("blob:")
                || url == "about:blank")
        })
        .collect();
    assert_eq!(outside, Vec::<String>::new(), "only the gateway is asked");
    assert_eq!(browser.page_errors(), Vec::<String>::new());
}
