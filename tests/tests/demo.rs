//! The demo of `cargo xtask dev --demo`, loaded on a fresh stack: the whole CRM in use,
//! consistent across subgraphs, loaded twice without duplicates, its e-mails delivered to a
//! local catcher.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use std::{collections::BTreeSet, time::Duration};

use crm_e2e::{
    demo::{self, Loaded, DEMO_CLIENTS, DEMO_EMAIL, DEMO_PASSWORD, MEMBER_EMAIL, MEMBER_PASSWORD},
    harness::Stack,
    sample,
};
use crm_test_support::{smtp::SmtpSink, wait_for};
use serde_json::{json, Value};

/// Crosses the four subgraphs: clients (core), their contracts and sales reps (commercial),
/// invoices and payments (finance), tasks and activities (engagement).
const CLIENT_360: &str = "query($search: String) {
  clients(first: 30, filter: {search: $search}) { totalCount nodes {
    displayName societe { name }
    contracts(first: 10) { nodes { reference status salesRep { firstName }
      invoices(first: 10) { nodes { number status totalInclVat payments { amount method } } } } }
    tasks(first: 10) { nodes { title overdue assignee { email } } }
    activities(first: 10) { nodes { subject } }
  } }
}";

/// The queries of the README's GraphiQL examples (one per `#` comment; subscriptions aside).
fn readme_queries() -> Vec<String> {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("then try these")
        .and_then(|at| readme[at..].find("```graphql").map(|block| at + block))
        .expect("the README's example queries");
    let block = &readme[start + "```graphql".len()..];
    let block = &block[..block.find("```").expect("the end of the examples")];
    let queries: Vec<String> = block
        .split("\n#")
        .map(|part| part.lines().skip(1).collect::<Vec<_>>().join("\n"))
        .filter(|q| q.trim_start().starts_with('{'))
        .collect();
    assert!(queries.len() >= 4, "README examples: {queries:?}");
    queries
}

/// Counts of everything the demo creates, as the owner sees them.
async fn inventory(api: &demo::Api) -> Value {
    api.run(
        "{ clients(first: 1) { totalCount } contracts(first: 1) { totalCount }
           invoices(first: 1) { totalCount } tasks(first: 1) { totalCount }
           products(first: 1) { totalCount } commissions(first: 1) { totalCount }
           activities(first: 1) { totalCount } societes { id } members { role }
           productRanges { id } priceGrids { id } salesReps { id } }",
        json!({}),
    )
    .await
    .unwrap()
}

async fn log_in(stack: &Stack, email: &str, password: &str) -> (demo::Api, String) {
    let api = demo::Api::new(&stack.gateway.url());
    let login = api
        .run(
            "mutation($input: LoginInput!) { login(input: $input) { token role } }",
            json!({"input": {"email": email, "password": password}}),
        )
        .await
        .unwrap();
    let token = login["login"]["token"].as_str().unwrap();
    (
        api.with_token(token),
        login["login"]["role"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn the_demo_shows_the_whole_crm_and_loads_twice_without_duplicates() {
    let mail = std::env::temp_dir().join(format!("crm-demo-mail-{}", uuid::Uuid::new_v4()));
    let catcher = SmtpSink::start_writing_to(mail.clone()).await.unwrap();
    let stack = Stack::start_with_smtp(catcher.port).await;

    let loaded = demo::load(
        &stack.gateway.url(),
        &stack.commercial_db.pool,
        stack.mailbox(),
    )
    .await
    .unwrap();
    let Loaded::Created(summary) = loaded else {
        panic!("a fresh stack has no demo: {loaded:?}")
    };
    assert_eq!(summary.clients, DEMO_CLIENTS as usize);

    let (owner, role) = log_in(&stack, DEMO_EMAIL, DEMO_PASSWORD).await;
    assert_eq!(role, "OWNER");
    let (_, member_role) = log_in(&stack, MEMBER_EMAIL, MEMBER_PASSWORD).await;
    assert_eq!(member_role, "MEMBER");

    let before = inventory(&owner).await;
    assert_eq!(before["clients"]["totalCount"], DEMO_CLIENTS);
    assert_eq!(before["societes"].as_array().unwrap().len(), 2);
    assert_eq!(before["members"].as_array().unwrap().len(), 2);
    assert_eq!(before["productRanges"].as_array().unwrap().len(), 3);
    assert_eq!(before["salesReps"].as_array().unwrap().len(), 3);

    // Contracts in every status.
    let statuses = owner
        .run("{ contracts(first: 50) { nodes { status } } }", json!({}))
        .await
        .unwrap();
    let statuses: BTreeSet<&str> = statuses["contracts"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    let every: BTreeSet<&str> = [
        "DRAFT",
        "SIGNED",
        "ACTIVE",
        "SUSPENDED",
        "TERMINATED",
        "CANCELLED",
        "EXPIRED",
    ]
    .into();
    assert_eq!(statuses, every);

    // One request across the four subgraphs, on demo data.
    let all = owner
        .run(CLIENT_360, json!({"search": null}))
        .await
        .unwrap();
    let clients = all["clients"]["nodes"].as_array().unwrap();
    let paid = clients
        .iter()
        .flat_map(|c| c["contracts"]["nodes"].as_array().unwrap())
        .flat_map(|c| c["invoices"]["nodes"].as_array().unwrap())
        .filter(|i| i["status"] == "PAID")
        .count();
    assert!(paid >= 3, "paid invoices: {paid}");
    let first = &clients
        .iter()
        .find(|c| {
            !c["contracts"]["nodes"].as_array().unwrap().is_empty()
                && !c["tasks"]["nodes"].as_array().unwrap().is_empty()
        })
        .expect("a client with contracts and tasks");
    assert!(first["societe"]["name"]
        .as_str()
        .unwrap()
        .starts_with("Démo Courtage"));
    assert!(!first["contracts"]["nodes"][0]["reference"]
        .as_str()
        .unwrap()
        .is_empty());
    let overdue = clients
        .iter()
        .flat_map(|c| c["tasks"]["nodes"].as_array().unwrap())
        .filter(|t| t["overdue"] == true)
        .count();
    assert!(overdue >= 2, "overdue tasks: {overdue}");
    assert!(clients
        .iter()
        .flat_map(|c| c["tasks"]["nodes"].as_array().unwrap())
        .any(|t| t["assignee"]["email"] == MEMBER_EMAIL));
    assert!(clients
        .iter()
        .any(|c| !c["activities"]["nodes"].as_array().unwrap().is_empty()));
    // The README's example queries answer on the demo, without errors.
    for query in readme_queries() {
        let answer = owner.run(&query, json!({})).await;
        assert!(answer.is_ok(), "README query {query}: {answer:?}");
    }

    let credit_notes = owner
        .run(
            "{ invoices(first: 50) { nodes { kind status } } }",
            json!({}),
        )
        .await
        .unwrap();
    assert!(credit_notes["invoices"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["kind"] == "CREDIT_NOTE"));
    let unread = wait_for(Duration::from_secs(20), || async {
        let count = owner
            .run("{ unreadNotificationCount }", json!({}))
            .await
            .ok()?["unreadNotificationCount"]
            .as_u64()?;
        (count > 0).then_some(count)
    })
    .await;
    assert!(unread.is_some(), "the demo's events made notifications");

    // The confirmation, invitation and welcome e-mails reach the local catcher, as .eml files.
    let delivered = wait_for(Duration::from_secs(30), || async {
        let mut texts = Vec::new();
        for entry in std::fs::read_dir(&mail).ok()? {
            let path = entry.ok()?.path();
            if path.extension().is_some_and(|e| e == "eml") {
                texts.push(std::fs::read_to_string(path).ok()?);
            }
        }
        let to = |address: &str| {
            texts.iter().any(|t| {
                t.contains(&format!("To: {address}")) || t.contains(&format!("<{address}>"))
            })
        };
        // The owner's sign-up confirmation, the member's invitation, and the welcome of the
        // first client.
        (to(DEMO_EMAIL) && to(MEMBER_EMAIL) && to(&sample::client(0).email)).then_some(texts.len())
    })
    .await;
    assert!(
        delivered.is_some(),
        "confirmation, invitation and welcome e-mails in {}: {:?}",
        mail.display(),
        catcher
            .messages()
            .iter()
            .map(|m| m.to.clone())
            .collect::<Vec<_>>()
    );

    // Again: found complete, nothing added.
    let again = demo::load(
        &stack.gateway.url(),
        &stack.commercial_db.pool,
        stack.mailbox(),
    )
    .await
    .unwrap();
    assert_eq!(again, Loaded::AlreadyThere);
    assert_eq!(inventory(&owner).await, before);
    let _ = std::fs::remove_dir_all(&mail);
}
