//! Events: written with the change, published to JetStream by the relay, never lost while
//! NATS is away, never published twice by concurrent relays.

use std::time::Duration;

use async_nats::jetstream;
use crm_test_support::{
    harness::{metrics, operate},
    nats::{isolated_events, NatsServer},
    wait_for,
};
use serde_json::{json, Value};
use subgraph_kit::events::{record, Envelope, EventsSettings, Relay};
use uuid::Uuid;

use crate::helpers::*;

/// Every message of the test's stream, in order: (Nats-Msg-Id, subject, envelope).
async fn stream_messages(events: &EventsSettings) -> Vec<(String, String, Value)> {
    let Ok(client) = async_nats::connect(events.nats_url.as_str()).await else {
        return Vec::new();
    };
    let js = jetstream::new(client);
    let Ok(mut stream) = js.get_stream(&events.stream).await else {
        return Vec::new();
    };
    let Ok(info) = stream.info().await else {
        return Vec::new();
    };
    let (first, last) = (info.state.first_sequence, info.state.last_sequence);
    let mut messages = Vec::new();
    for sequence in first..=last {
        if let Ok(message) = stream.get_raw_message(sequence).await {
            let id = message
                .headers
                .get("Nats-Msg-Id")
                .map(|v| v.to_string())
                .unwrap_or_default();
            let body: Value = serde_json::from_slice(&message.payload).unwrap_or_default();
            messages.push((id, message.subject.to_string(), body));
        }
    }
    messages
}

/// Waits until the stream holds `count` messages.
async fn wait_for_messages(events: &EventsSettings, count: usize) -> Vec<(String, String, Value)> {
    wait_for(Duration::from_secs(20), || async {
        let messages = stream_messages(events).await;
        (messages.len() >= count).then_some(messages)
    })
    .await
    .unwrap_or_else(|| panic!("fewer than {count} events reached the stream"))
}

#[tokio::test]
async fn every_core_change_publishes_its_event_with_organisation_and_correlation() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let with_id = |id: &'static str| [("x-request-id", id)];
    let created = owner
        .client
        .run_with_headers(
            CREATE_CLIENT,
            json!({"input": person("Dupont", "06 12 34 56 78")}),
            &with_id("req-create"),
        )
        .await;
    let client_id = created.data()["createClient"]["id"].clone();
    owner
        .client
        .run_with_headers(
            "mutation($id: ID!) { updateClient(id: $id, input: {status: SUSPENDED}) { id } }",
            json!({"id": client_id}),
            &with_id("req-update"),
        )
        .await
        .data();
    owner
        .run(
            "mutation($id: ID!) { deleteClient(id: $id) { id } }",
            json!({"id": client_id}),
        )
        .await
        .data();
    let member = app.join(&owner, "member@example.fr", "MEMBER").await;
    owner
        .run(
            "mutation($u: ID!) { updateMemberRole(userId: $u, role: ADMIN) { role } }",
            json!({"u": member.user_id}),
        )
        .await
        .data();
    owner
        .run(
            "mutation($u: ID!) { removeMember(userId: $u) }",
            json!({"u": member.user_id}),
        )
        .await
        .data();

    let messages = wait_for_messages(&app.events, 9).await;
    let types: Vec<&str> = messages
        .iter()
        .map(|(_, _, e)| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "sign_up.requested",
            "organisation.created",
            "client.created",
            "client.updated",
            "client.updated",
            "member.invited",
            "member.joined",
            "member.role_changed",
            "member.removed"
        ]
    );
    for (msg_id, subject, envelope) in &messages {
        assert_eq!(
            msg_id,
            envelope["id"].as_str().unwrap(),
            "Nats-Msg-Id is the event id"
        );
        assert_eq!(
            subject,
            &format!(
                "{}.{}",
                app.events.subject_prefix,
                envelope["type"].as_str().unwrap()
            )
        );
        assert_eq!(envelope["organisation_id"], owner.organisation_id.as_str());
        let version = if envelope["type"] == "member.invited" {
            2
        } else {
            1
        };
        assert_eq!(envelope["version"], version);
    }
    let client_created = &messages[2].2;
    assert_eq!(client_created["correlation_id"], "req-create");
    assert_eq!(client_created["payload"]["client"]["client_id"], client_id);
    assert_eq!(
        client_created["payload"]["client"]["email"],
        "dupont@example.fr"
    );
    assert_eq!(
        client_created["payload"]["created_by"],
        owner.user_id.as_str()
    );
    assert_eq!(messages[3].2["correlation_id"], "req-update");
    assert_eq!(messages[3].2["payload"]["client"]["status"], "SUSPENDED");
    assert!(messages[4].2["payload"]["client"]["deleted_at"].is_string());
    assert_eq!(messages[5].2["payload"]["email"], "member@example.fr");
    // The invitation's token crosses the bus sealed for the mailer, never in clear.
    let invited = &messages[5].2["payload"];
    assert!(invited.get("token").is_none(), "{invited}");
    let sealed = invited["sealed_token"].as_str().unwrap();
    let opened = app.mail_key.open(sealed).unwrap();
    assert!(sqlx::query_scalar::<_, bool>(
        "select exists(select 1 from invitations where token_hash = sha256(convert_to($1, 'UTF8')))"
    )
    .bind(secrecy::ExposeSecret::expose_secret(&opened))
    .fetch_one(&app.core_db.pool)
    .await
    .unwrap());
    assert_eq!(messages[6].2["payload"]["role"], "MEMBER");
    assert_eq!(messages[7].2["payload"]["role"], "ADMIN");
    assert_eq!(messages[8].2["payload"]["user_id"], member.user_id.as_str());
}

#[tokio::test]
async fn a_refused_mutation_records_no_event() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    create_client(&owner, person("Dupont", "06 12 34 56 78")).await;
    let duplicate = owner
        .run(
            CREATE_CLIENT,
            json!({"input": person("Dupont", "06 12 34 56 78")}),
        )
        .await;
    assert_eq!(duplicate.error_code(), "CONFLICT");
    let invalid = owner
        .run(CREATE_CLIENT, json!({"input": person("Martin", "12")}))
        .await;
    assert_eq!(invalid.error_code(), "VALIDATION");
    let recorded: i64 =
        sqlx::query_scalar("select count(*) from outbox where event_type = 'client.created'")
            .fetch_one(&app.core_db.pool)
            .await
            .unwrap();
    assert_eq!(recorded, 1);
}

#[tokio::test]
async fn with_nats_down_a_mutation_commits_and_its_event_arrives_when_nats_is_back() {
    let mut nats = NatsServer::start().await;
    let events = isolated_events(&nats.url());
    let app = spawn_app_with(3600, events.clone()).await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    wait_for_messages(&events, 2).await; // the sign-up's request and its organisation

    nats.stop();
    let created = create_client(&owner, person("Dupont", "06 12 34 56 78")).await;
    let pending: i64 = sqlx::query_scalar("select count(*) from outbox where published_at is null")
        .fetch_one(&app.core_db.pool)
        .await
        .unwrap();
    assert_eq!(pending, 1, "the event waits in the outbox");

    nats.resume().await;
    let messages = wait_for_messages(&events, 3).await;
    assert_eq!(messages[2].2["type"], "client.created");
    assert_eq!(
        messages[2].2["payload"]["client"]["client_id"],
        created["id"]
    );
    let published = wait_for(Duration::from_secs(10), || async {
        let pending: i64 =
            sqlx::query_scalar("select count(*) from outbox where published_at is null")
                .fetch_one(&app.core_db.pool)
                .await
                .ok()?;
        (pending == 0).then_some(())
    })
    .await;
    assert!(published.is_some(), "the outbox row is marked published");
    assert_eq!(
        stream_messages(&events).await.len(),
        3,
        "and published once"
    );
}

#[tokio::test]
async fn concurrent_relays_publish_each_event_exactly_once() {
    let app = spawn_app().await;
    let organisation = Uuid::new_v4();
    let mut tx = app.core_db.pool.begin().await.unwrap();
    for i in 0..300 {
        let envelope = test_envelope(organisation, json!({"n": i}));
        record(&mut tx, &envelope).await.unwrap();
    }
    tx.commit().await.unwrap();

    let relay = |_: u8| {
        let (pool, events) = (app.core_db.pool.clone(), app.events.clone());
        async move {
            let client = async_nats::connect(events.nats_url.as_str()).await.unwrap();
            Relay::new(pool, client, events).drain().await.unwrap()
        }
    };
    // The app's own relay runs too: three relays race over the same rows.
    let (a, b) = tokio::join!(relay(1), relay(2));
    let messages = wait_for_messages(&app.events, 300).await;
    let mut ids: Vec<&str> = messages.iter().map(|(id, _, _)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 300);
    assert_eq!(messages.len(), 300, "no event was stored twice");
    // Each relay only took rows no other relay held: none of their publishes was a duplicate.
    assert_eq!((a.duplicates, b.duplicates), (0, 0));
    assert!(a.published + b.published <= 300);
    let ordered: Vec<i64> = messages
        .iter()
        .filter_map(|(_, _, e)| e["payload"]["n"].as_i64())
        .collect();
    assert_eq!(ordered.len(), 300);
}

/// A `test.happened` envelope of `organisation` carrying `payload`.
fn test_envelope(organisation: Uuid, payload: Value) -> Envelope {
    Envelope {
        id: Uuid::now_v7(),
        event_type: "test.happened".into(),
        version: 1,
        organisation_id: organisation,
        occurred_at: chrono::Utc::now(),
        correlation_id: None,
        causation_id: None,
        trace_context: None,
        payload,
    }
}

/// An envelope of `organisation` with a payload of about `bytes` bytes.
fn envelope_of(organisation: Uuid, bytes: usize) -> Envelope {
    test_envelope(organisation, json!({"text": "x".repeat(bytes)}))
}

#[tokio::test]
async fn an_event_the_bus_refuses_is_parked_and_the_next_ones_go_on() {
    let app = spawn_app().await;
    // A 2 MiB row (written past `record`'s size check, as by an older version): larger than
    // the server's payload limit, so NATS can never take it.
    let oversized = envelope_of(Uuid::new_v4(), 2 * 1024 * 1024);
    sqlx::query(
        "insert into outbox (id, organisation_id, event_type, envelope, created_at)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(oversized.id)
    .bind(oversized.organisation_id)
    .bind(&oversized.event_type)
    .bind(serde_json::to_value(&oversized).unwrap())
    .bind(oversized.occurred_at)
    .execute(&app.core_db.pool)
    .await
    .unwrap();
    // Another organisation's change, recorded after it.
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    let messages = wait_for_messages(&app.events, 2).await;
    assert_eq!(messages[1].2["type"], "organisation.created");
    assert_eq!(
        messages[1].2["organisation_id"],
        owner.organisation_id.as_str()
    );
    let (parked, attempts, error): (bool, i32, String) = sqlx::query_as(
        "select parked_at is not null, attempts, last_error from outbox where id = $1",
    )
    .bind(oversized.id)
    .fetch_one(&app.core_db.pool)
    .await
    .unwrap();
    assert!(parked, "the oversized row is parked");
    assert_eq!(attempts, 1, "parked at the first refusal: it can never fit");
    assert!(error.contains("payload"), "{error}");
    assert_eq!(
        stream_messages(&app.events).await.len(),
        2,
        "only the other organisation's events (its sign-up) reached the stream"
    );

    // The operator sees it (listed, counted) and discards it.
    let page = metrics(&app.base_url).await;
    assert!(
        page.contains("crm_outbox_parked_events{subgraph=\"core\"} 1"),
        "{page}"
    );
    let listed = operate(&app.core_db.pool, &["parked", "list"]).await;
    assert!(
        listed.contains(&oversized.id.to_string()) && listed.contains("1 refusal(s)"),
        "{listed}"
    );
    let discarded = operate(
        &app.core_db.pool,
        &["parked", "discard", &oversized.id.to_string()],
    )
    .await;
    assert_eq!(discarded, "1 parked event(s) deleted\n");
    assert_eq!(
        operate(&app.core_db.pool, &["parked", "list"]).await,
        "no parked events\n"
    );
    let page = metrics(&app.base_url).await;
    assert!(
        page.contains("crm_outbox_parked_events{subgraph=\"core\"} 0"),
        "{page}"
    );
}

#[tokio::test]
async fn a_parked_event_an_operator_retries_is_published() {
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.fr", "Acme").await;
    // A row the relay gave up on after five refusals whose cause is gone (the operator raised
    // the server's limit, say): parked rows are passed over until someone retries them.
    let event = test_envelope(
        owner.organisation_id.parse().unwrap(),
        json!({"text": "held"}),
    );
    sqlx::query(
        "insert into outbox (id, organisation_id, event_type, envelope, created_at, attempts, last_error, parked_at)
         values ($1, $2, $3, $4, now(), 5, 'refused', now())",
    )
    .bind(event.id)
    .bind(event.organisation_id)
    .bind(&event.event_type)
    .bind(serde_json::to_value(&event).unwrap())
    .execute(&app.core_db.pool)
    .await
    .unwrap();
    let other = app.sign_up("other@example.fr", "Beta").await;
    let in_stream = |id: String| {
        let events = app.events.clone();
        async move {
            stream_messages(&events)
                .await
                .iter()
                .any(|m| m.2["id"] == id.as_str())
        }
    };
    wait_for(Duration::from_secs(20), || async {
        let messages = stream_messages(&app.events).await;
        messages
            .iter()
            .any(|m| m.2["organisation_id"] == other.organisation_id.as_str())
            .then_some(())
    })
    .await
    .expect("the later organisation's events are published");
    assert!(
        !in_stream(event.id.to_string()).await,
        "a parked row is passed over"
    );
    let retried = operate(&app.core_db.pool, &["parked", "retry", "--all"]).await;
    assert_eq!(retried, "1 parked event(s) given back to the relay\n");
    wait_for(Duration::from_secs(20), || async {
        in_stream(event.id.to_string()).await.then_some(())
    })
    .await
    .expect("the retried row is published");
    let (published, attempts): (bool, i32) =
        sqlx::query_as("select published_at is not null, attempts from outbox where id = $1")
            .bind(event.id)
            .fetch_one(&app.core_db.pool)
            .await
            .unwrap();
    assert_eq!((published, attempts), (true, 0));
}

#[tokio::test]
async fn an_event_too_large_to_publish_is_refused_when_recorded() {
    let app = spawn_app().await;
    let mut tx = app.core_db.pool.begin().await.unwrap();
    let refused = record(
        &mut tx,
        &envelope_of(Uuid::new_v4(), subgraph_kit::events::MAX_EVENT_BYTES),
    )
    .await;
    let error = async_graphql::Error::from(refused.unwrap_err());
    let code = error
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .cloned();
    assert_eq!(code, Some(async_graphql::Value::from("VALIDATION")));
    assert!(error.message.contains("too large"), "{}", error.message);
    record(&mut tx, &envelope_of(Uuid::new_v4(), 1000))
        .await
        .unwrap();
}
