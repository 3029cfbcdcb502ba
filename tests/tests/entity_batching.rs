//! A query that makes the gateway fetch a batch of `Client` entities from core costs core one
//! SQL statement, however many clients the batch holds.
//!
//! A probe subgraph (test-only) returns `Client` references it cannot resolve; the gateway
//! plans an `_entities` fetch to core for their fields. Statements are counted from sqlx's
//! own `sqlx::query` tracing events, so this file holds a single test: the subscriber is global.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema, SimpleObject, ID};
use crm_e2e::harness::Stack;
use crm_gateway::composition::{compose, SubgraphSdl};
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing_subscriber::{layer::Context, prelude::*, Layer};

/// Counts sqlx statements that read the `clients` table.
struct ClientStatements(Arc<AtomicUsize>);

struct StatementText(String);

impl Visit for StatementText {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "db.statement" || field.name() == "summary" {
            self.0.push_str(&format!("{value:?} "));
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for ClientStatements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let mut text = StatementText(String::new());
        event.record(&mut text);
        if text.0.contains("from clients") {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "Client", unresolvable)]
struct ClientRef {
    id: ID,
}

struct ProbeQuery;

// Root types must be named `Query` for composition (async-graphql names them after the struct).
#[Object(name = "Query")]
impl ProbeQuery {
    /// References to clients, whose fields core resolves.
    async fn client_refs(&self, ids: Vec<ID>) -> Vec<ClientRef> {
        ids.into_iter().map(|id| ClientRef { id }).collect()
    }
}

async fn start_probe() -> (String, String) {
    let schema = Schema::build(ProbeQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .finish();
    let sdl = schema.sdl_with_options(async_graphql::SDLExportOptions::new().federation());
    let app = axum::Router::new().route(
        "/graphql",
        axum::routing::post_service(async_graphql_axum::GraphQL::new(schema)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, sdl)
}

#[tokio::test]
async fn fetching_a_batch_of_client_entities_costs_core_one_sql_statement() {
    let counter = Arc::new(AtomicUsize::new(0));
    tracing_subscriber::registry()
        .with(
            ClientStatements(counter.clone()).with_filter(
                tracing_subscriber::filter::Targets::new()
                    .with_target("sqlx::query", tracing::Level::TRACE),
            ),
        )
        .init();

    let (probe_url, probe_sdl) = start_probe().await;
    let supergraph = compose(&[
        SubgraphSdl {
            name: "core".into(),
            url: "http://127.0.0.1:4001/graphql".into(),
            sdl: subgraph_core::graphql::sdl(),
        },
        SubgraphSdl {
            name: "probe".into(),
            url: probe_url.clone(),
            sdl: probe_sdl,
        },
    ])
    .expect("core and the probe compose");
    let path = std::env::temp_dir().join(format!(
        "supergraph-probe-{}.graphql",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, supergraph).unwrap();
    let stack = Stack::start_with(&path, HashMap::from([("probe".to_owned(), probe_url)])).await;

    let (owner, _) = stack.sign_up("owner@example.fr", "Acme").await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let created = owner
            .run(
                "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
                json!({"input": {"kind": "COMPANY", "name": format!("Company {i}")}}),
            )
            .await;
        ids.push(created.data()["createClient"]["id"].clone());
    }

    counter.store(0, Ordering::SeqCst);
    let response = owner
        .run(
            "query($ids: [ID!]!) { clientRefs(ids: $ids) { id name } }",
            json!({"ids": ids}),
        )
        .await;
    let refs = response.data()["clientRefs"].as_array().unwrap().clone();
    assert_eq!(refs.len(), 10);
    for (i, client) in refs.iter().enumerate() {
        assert_eq!(client["name"], format!("Company {i}"));
    }
    assert_eq!(
        counter.load(Ordering::SeqCst),
        1,
        "an entity batch of 10 clients must be one statement"
    );

    // The same holds across tenants: another organisation's ids resolve to nothing, still in one go.
    let (intruder, _) = stack.sign_up("intruder@example.fr", "Evil").await;
    counter.store(0, Ordering::SeqCst);
    let foreign = intruder
        .run(
            "query($ids: [ID!]!) { clientRefs(ids: $ids) { id name } }",
            json!({"ids": ids}),
        )
        .await;
    assert!(foreign.body["data"]["clientRefs"]
        .as_array()
        .is_none_or(|refs| refs.iter().all(|r| r.is_null() || r["name"].is_null())));
    assert_eq!(counter.load(Ordering::SeqCst), 1);
    let _ = std::fs::remove_file(path);
}
