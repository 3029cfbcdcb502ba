//! Faults under load, with real processes: 10,000 events recorded by core while the NATS
//! server is killed and restarted and the engagement process is SIGKILLed and restarted.
//! Nothing committed is lost, nothing is published or applied twice, and each writer's events
//! reach the stream in the order it committed them. The counts are printed.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use async_nats::jetstream;
use crm_test_support::{
    nats::{isolated_events, NatsServer},
    wait_for,
};
use serde_json::{json, Value};

use crate::{
    helpers::{spawn_core_only_on, TestApps},
    process::{settled, EngagementProcess},
};

/// Concurrent writers, each creating its clients one after the other.
const WRITERS: usize = 4;
const PER_WRITER: usize = 2_500;
const EVENTS: usize = WRITERS * PER_WRITER;

const CREATE: &str = "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }";

async fn scalar(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// Waits until the writers have created `n` clients.
async fn reached(created: &AtomicUsize, n: usize) {
    let got = wait_for(Duration::from_secs(300), || async {
        (created.load(Ordering::SeqCst) >= n).then_some(())
    })
    .await;
    assert!(got.is_some(), "the writers never reached {n} clients");
}

/// The stream's `client.created` messages, in stream order: (Nats-Msg-Id, envelope).
async fn published(apps: &TestApps) -> Vec<(String, Value)> {
    let js = jetstream::new(async_nats::connect(&apps.events.nats_url).await.unwrap());
    let mut stream = js.get_stream(&apps.events.stream).await.unwrap();
    let info = stream.info().await.unwrap();
    let subject = apps.events.subject("client.created");
    let mut messages = Vec::new();
    for sequence in info.state.first_sequence..=info.state.last_sequence {
        let message = stream.get_raw_message(sequence).await.unwrap();
        if message.subject.as_str() != subject {
            continue;
        }
        let id = message
            .headers
            .get("Nats-Msg-Id")
            .map(|v| v.to_string())
            .unwrap_or_default();
        messages.push((id, serde_json::from_slice(&message.payload).unwrap()));
    }
    messages
}

#[allow(clippy::print_stdout)] // the counts are the test's report, shown with --nocapture
#[tokio::test]
async fn ten_thousand_events_under_faults_are_each_published_and_applied_once() {
    let mut nats = NatsServer::start().await;
    let apps = spawn_core_only_on(isolated_events(&nats.url())).await;
    let log = std::env::temp_dir().join(format!("crm-engagement-faults-{}.log", apps.db.name));
    let mut engagement = Some(EngagementProcess::start(&apps, &log));
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    apps.wait_caught_up().await;

    let created = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (client, created) = (owner.core.clone(), created.clone());
            tokio::spawn(async move {
                for i in 0..PER_WRITER {
                    let input = json!({"kind": "PERSON", "name": format!("W{writer}-{i:05}"), "firstName": "Test"});
                    client.run(CREATE, json!({"input": input})).await.data();
                    created.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    // The faults, at points of the run (core commits whether or not NATS is there).
    reached(&created, 1_500).await;
    nats.stop();
    reached(&created, 3_000).await;
    nats.resume().await;
    reached(&created, 4_500).await;
    engagement.take().unwrap().kill();
    reached(&created, 5_500).await;
    engagement = Some(EngagementProcess::start(&apps, &log));
    reached(&created, 7_000).await;
    nats.stop();
    engagement.take().unwrap().kill();
    reached(&created, 8_000).await;
    nats.resume().await;
    engagement = Some(EngagementProcess::start(&apps, &log));
    for writer in writers {
        writer.await.unwrap();
    }

    // Everything is handled: engagement's consumer processed every client.created core
    // recorded, and nothing is pending or unacknowledged on the stream.
    let core = apps.core_db.pool.clone();
    let handled = wait_for(Duration::from_secs(300), || async {
        let processed: i64 = sqlx::query_scalar(
            "select count(*) from processed_events where event_type = 'client.created'",
        )
        .fetch_one(&apps.db.pool)
        .await
        .ok()?;
        (processed >= EVENTS as i64).then_some(())
    })
    .await;
    assert!(
        handled.is_some(),
        "engagement did not handle every event: see {}",
        log.display()
    );
    let settled = settled(&apps, Duration::from_secs(60)).await;
    assert!(settled, "events still in flight: see {}", log.display());

    // Core: every event recorded once, published, none parked.
    let recorded = scalar(
        &core,
        "select count(*) from outbox where event_type = 'client.created'",
    )
    .await;
    let unpublished = scalar(
        &core,
        "select count(*) from outbox where event_type = 'client.created' and (published_at is null or parked_at is not null)",
    )
    .await;
    let outbox_ids: HashSet<String> =
        sqlx::query_scalar("select id::text from outbox where event_type = 'client.created'")
            .fetch_all(&core)
            .await
            .unwrap()
            .into_iter()
            .collect();

    // The stream: each event once, and each writer's in the order it committed them.
    let messages = published(&apps).await;
    let distinct: HashSet<&str> = messages.iter().map(|(id, _)| id.as_str()).collect();
    let mut last_of_writer: HashMap<String, String> = HashMap::new();
    let mut out_of_order = 0;
    for (_, envelope) in &messages {
        let name = envelope["payload"]["client"]["name"]
            .as_str()
            .unwrap()
            .to_owned();
        let (writer, _) = name.split_once('-').unwrap();
        if let Some(previous) = last_of_writer.insert(writer.to_owned(), name.clone()) {
            if previous >= name {
                out_of_order += 1;
            }
        }
    }

    // Engagement: each event's effects once.
    let db = &apps.db.pool;
    let notifications = scalar(
        db,
        "select count(*) from notifications where kind = 'NEW_CLIENT'",
    )
    .await;
    let notified_clients = scalar(
        db,
        "select count(distinct metadata ->> 'client_id') from notifications where kind = 'NEW_CLIENT'",
    )
    .await;
    let projected = scalar(db, "select count(*) from clients").await;
    let processed = scalar(
        db,
        "select count(*) from processed_events where event_type = 'client.created'",
    )
    .await;
    let dead_letters = scalar(db, "select count(*) from dead_letters").await;

    println!(
        "10,000-event run, NATS killed twice, engagement SIGKILLed twice: {} created, {recorded} \
         recorded, {unpublished} unpublished or parked, {} published ({} distinct, {out_of_order} \
         out of a writer's order), {processed} processed, {notifications} notifications for \
         {notified_clients} clients, {projected} clients projected, {dead_letters} dead letters",
        created.load(Ordering::SeqCst),
        messages.len(),
        distinct.len(),
    );
    assert_eq!(created.load(Ordering::SeqCst), EVENTS);
    assert_eq!(recorded, EVENTS as i64);
    assert_eq!(unpublished, 0);
    assert_eq!(messages.len(), EVENTS, "each event in the stream once");
    assert_eq!(distinct.len(), EVENTS);
    assert!(distinct.iter().all(|id| outbox_ids.contains(*id)));
    assert_eq!(out_of_order, 0);
    assert_eq!(processed, EVENTS as i64);
    assert_eq!(notifications, EVENTS as i64, "one notification per client");
    assert_eq!(notified_clients, EVENTS as i64);
    // The projection holds the new clients (none other exist).
    assert_eq!(projected, EVENTS as i64);
    assert_eq!(dead_letters, 0, "see {}", log.display());
    drop(engagement);
    let _ = std::fs::remove_file(&log);
}
