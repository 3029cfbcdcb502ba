//! Live notifications through the gateway: WebSocket (graphql-transport-ws) and SSE clients
//! get their own organisation's and user's events, with fields of other subgraphs resolved.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use std::time::Duration;

use crm_e2e::harness::{Socket, Stack};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

/// `tasks` comes from engagement itself, through the loaders of the subscription's connection.
const SUBSCRIPTION: &str = "subscription { notificationAdded { kind title message \
    client { name displayName tasks { nodes { title } } } } }";

struct Subscriber {
    socket: Socket,
    organisation_id: Uuid,
    user_id: Uuid,
}

/// Opens a graphql-transport-ws connection through the gateway and subscribes.
async fn open(stack: &Stack, token: &str) -> Result<Socket, String> {
    open_with(stack, token, SUBSCRIPTION).await
}

/// Opens a graphql-transport-ws connection through the gateway and subscribes with `query`.
async fn open_with(stack: &Stack, token: &str, query: &str) -> Result<Socket, String> {
    let mut socket = stack.websocket().await.map_err(|e| e.to_string())?;
    let init =
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}});
    socket.send(Message::text(init.to_string())).await.unwrap();
    match next_message(&mut socket).await {
        Some(m) if m["type"] == "connection_ack" => {}
        other => return Err(format!("no connection_ack: {other:?}")),
    }
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": query}});
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .unwrap();
    Ok(socket)
}

/// The next protocol message (pings answered), or `None` when the socket closes or 20 s pass.
async fn next_message(socket: &mut Socket) -> Option<Value> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .ok()??
            .ok()?;
        match frame {
            Message::Text(text) => {
                let message: Value = serde_json::from_str(&text).ok()?;
                if message["type"] == "ping" {
                    socket
                        .send(Message::text(json!({"type": "pong"}).to_string()))
                        .await
                        .ok()?;
                    continue;
                }
                return Some(message);
            }
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

/// Publishes probes on the subscriber's own live subject until one comes through: from then
/// on the whole path (gateway → engagement → NATS) is established.
async fn wait_until_live(stack: &Stack, subscriber: &mut Subscriber) {
    for _ in 0..200 {
        stack
            .publish_notification_probe(subscriber.organisation_id, subscriber.user_id)
            .await;
        let arrived = tokio::time::timeout(
            Duration::from_millis(100),
            next_message(&mut subscriber.socket),
        )
        .await;
        if let Ok(Some(message)) = arrived {
            assert_eq!(message["type"], "next", "{message}");
            assert_eq!(
                message["payload"]["data"]["notificationAdded"]["title"],
                "probe"
            );
            return;
        }
    }
    panic!("the subscription never became live");
}

/// Whether the subscription on `socket` ends (complete, error or close) within a minute,
/// answering pings meanwhile.
async fn ended_within_a_minute(socket: &mut Socket) -> bool {
    let ended = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match socket.next().await {
                None | Some(Err(_) | Ok(Message::Close(_))) => return,
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(&text).unwrap();
                    if message["type"] == "complete" || message["type"] == "error" {
                        return;
                    }
                    if message["type"] == "ping" {
                        let pong = Message::text(json!({"type": "pong"}).to_string());
                        let _ = socket.send(pong).await;
                    }
                }
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    ended.is_ok()
}

/// The next notification that is not a probe.
async fn next_notification(socket: &mut Socket) -> Value {
    loop {
        let message = next_message(socket).await.expect("a notification");
        assert_eq!(message["type"], "next", "{message}");
        let notification = message["payload"]["data"]["notificationAdded"].clone();
        if notification["title"] != "probe" {
            return notification;
        }
    }
}

async fn subscriber(
    stack: &Stack,
    email: &str,
    organisation: &str,
) -> (crm_test_support::GraphqlClient, Subscriber) {
    let (client, payload) = stack.sign_up(email, organisation).await;
    let token = client.token.clone().unwrap();
    let socket = open(stack, &token).await.unwrap();
    let mut subscriber = Subscriber {
        socket,
        organisation_id: payload["organisation"]["id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap(),
        user_id: payload["user"]["id"].as_str().unwrap().parse().unwrap(),
    };
    wait_until_live(stack, &mut subscriber).await;
    (client, subscriber)
}

async fn create_client(client: &crm_test_support::GraphqlClient, name: &str) {
    client
        .run(
            "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
            json!({"input": {"kind": "PERSON", "name": name, "firstName": "Léa"}}),
        )
        .await
        .data();
}

#[tokio::test]
async fn a_websocket_subscriber_receives_its_organisations_new_clients_with_their_names() {
    let stack = Stack::start().await;
    let (acme, mut acme_socket) = subscriber(&stack, "owner@acme.fr", "Acme").await;
    let (globex, mut globex_socket) = subscriber(&stack, "owner@globex.fr", "Globex").await;

    create_client(&acme, "Durand").await;
    create_client(&globex, "Martin").await;

    let received = next_notification(&mut acme_socket.socket).await;
    assert_eq!(received["kind"], "NEW_CLIENT");
    assert_eq!(
        received["client"]["name"], "Durand",
        "resolved from core by the gateway"
    );
    assert_eq!(received["client"]["displayName"], "Léa Durand");
    assert_eq!(
        received["client"]["tasks"]["nodes"],
        json!([]),
        "{received}"
    );
    // Globex's first real event is its own: Acme's, published earlier, never reached it.
    let theirs = next_notification(&mut globex_socket.socket).await;
    assert_eq!(theirs["client"]["name"], "Martin");
}

#[tokio::test]
async fn a_subscription_with_an_invalid_or_expired_token_is_refused() {
    let stack = Stack::start().await;
    let (_, payload) = stack.sign_up("owner@acme.fr", "Acme").await;
    // Signed by core, for a real member, but expired five minutes ago (beyond the gateway's
    // one-minute allowance for clock skew).
    let expired = subgraph_core::tokens::TokenIssuer::from_pem(
        &stack.signing_key,
        subgraph_kit::auth::TokenPolicy {
            issuer: "crm-core".into(),
            audience: "crm".into(),
        },
        chrono::Duration::seconds(-300),
    )
    .unwrap()
    .issue(
        payload["user"]["id"].as_str().unwrap().parse().unwrap(),
        Some((
            payload["organisation"]["id"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
            subgraph_kit::Role::Owner,
        )),
    )
    .unwrap()
    .token;
    // The gateway itself refuses them, over WebSocket and SSE: the subgraph never sees them.
    for token in ["garbage", expired.as_str()] {
        let mut socket = open(&stack, token).await.unwrap();
        let refusal = message_about(&mut socket, "1").await;
        let refusal = refusal.expect("an answer to the subscription");
        assert_eq!(
            refusal["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
            "{refusal}"
        );
        assert_eq!(
            refusal["payload"]["errors"][0]["message"],
            "the access token is invalid or has expired",
            "{refusal}"
        );
        let sse = reqwest::Client::new()
            .post(stack.gateway.url())
            .bearer_auth(token)
            .header("accept", "text/event-stream, application/json")
            .json(&json!({"query": SUBSCRIPTION}))
            .send()
            .await
            .unwrap();
        assert_eq!(sse.status(), 401);
        let body: Value = sse.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
    // An empty token is no identity either: refused.
    let refused = match open(&stack, "").await {
        Err(_) => true,
        Ok(mut socket) => match message_about(&mut socket, "1").await {
            None => true,
            Some(message) => message["type"] == "error" || message["payload"]["errors"].is_array(),
        },
    };
    assert!(refused, "an empty token was accepted");
}

#[tokio::test]
async fn closing_the_socket_releases_the_subscription_on_the_server() {
    let stack = Stack::start().await;
    let (_, subscriber) = subscriber(&stack, "owner@acme.fr", "Acme").await;
    let nats = stack.nats.client_as(subgraph_kit::bus::OPERATOR).await;
    let subject = stack.events.live_subject(
        subscriber.organisation_id,
        subscriber.user_id,
        "notifications",
    );
    // While subscribed, someone listens on the subject: a request finds interest (and times out).
    let listened = tokio::time::timeout(
        Duration::from_millis(300),
        nats.request(subject.clone(), "".into()),
    )
    .await;
    assert!(
        listened.is_err(),
        "expected interest on {subject}, got {listened:?}"
    );

    let mut socket = subscriber.socket;
    socket.close(None).await.unwrap();
    drop(socket);
    let released = crm_test_support::wait_for(Duration::from_secs(20), || {
        let (nats, subject) = (nats.clone(), subject.clone());
        async move {
            let answer =
                tokio::time::timeout(Duration::from_millis(200), nats.request(subject, "".into()))
                    .await;
            match answer {
                Ok(Err(err)) if err.kind() == async_nats::RequestErrorKind::NoResponders => {
                    Some(())
                }
                _ => None,
            }
        }
    })
    .await;
    assert!(
        released.is_some(),
        "the NATS subscription outlived the client"
    );
}

#[tokio::test]
async fn an_sse_subscriber_receives_the_same_events() {
    let stack = Stack::start().await;
    let (client, payload) = stack.sign_up("owner@acme.fr", "Acme").await;
    let token = client.token.clone().unwrap();
    let organisation_id: Uuid = payload["organisation"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let user_id: Uuid = payload["user"]["id"].as_str().unwrap().parse().unwrap();
    let response = reqwest::Client::new()
        .post(stack.gateway.url())
        .bearer_auth(&token)
        .header("accept", "text/event-stream")
        .json(&json!({"query": SUBSCRIPTION}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let mut body = response.bytes_stream();
    let nats = stack.nats.client_as(subgraph_kit::bus::OPERATOR).await;
    let subject = stack
        .events
        .live_subject(organisation_id, user_id, "notifications");
    let mut buffer = String::new();
    let mut created = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    // Probe until the stream is live, then create a client and wait for its notification.
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no event over SSE: {buffer}"
        );
        if !created {
            let probe = json!({"id": Uuid::new_v4(), "organisation_id": organisation_id, "user_id": user_id,
                "kind": "SYSTEM", "title": "probe", "message": "probe", "link": null, "metadata": {},
                "source_event_id": null, "read_at": null, "created_at": "2026-01-01T00:00:00Z"});
            nats.publish(subject.clone(), probe.to_string().into())
                .await
                .unwrap();
            nats.flush().await.unwrap();
        }
        if let Ok(Some(Ok(chunk))) =
            tokio::time::timeout(Duration::from_millis(100), body.next()).await
        {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
        if !created && buffer.contains("probe") {
            created = true;
            create_client(&client, "Durand").await;
        }
        if buffer.contains("Durand") {
            break;
        }
    }
    assert!(buffer.contains("\"name\":\"Durand\""), "{buffer}");
}

/// A task as engagement announces it live, titled "probe".
fn task_probe(organisation_id: Uuid, user_id: Uuid) -> Value {
    json!({
        "id": Uuid::new_v4(), "organisation_id": organisation_id, "title": "probe", "description": null,
        "kind": "OTHER", "priority": "NORMAL", "status": "TODO", "due_at": null, "completed_at": null,
        "assignee_id": null, "created_by": user_id, "client_id": null, "contract_id": null,
        "invoice_id": null, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
    })
}

/// The next `taskChanged` payload that is not a probe.
async fn next_task(socket: &mut Socket) -> Value {
    loop {
        let message = next_message(socket).await.expect("a task change");
        assert_eq!(message["type"], "next", "{message}");
        let task = message["payload"]["data"]["taskChanged"].clone();
        if task["title"] != "probe" {
            return task;
        }
    }
}

#[tokio::test]
async fn an_assignee_follows_their_task_live() {
    let stack = Stack::start().await;
    let (owner, _) = stack.sign_up("owner@acme.fr", "Acme").await;
    let invited = owner
        .run(
            "mutation { inviteMember(input: {email: \"member@acme.fr\", role: MEMBER}) { invitation { id } } }",
            json!({}),
        )
        .await;
    invited.data();
    let invitation = stack
        .mailed(crm_test_support::mailbox::INVITATION, "member@acme.fr")
        .await;
    let accepted = stack
        .client()
        .run(
            "mutation($t: String!) { acceptInvitation(input: {token: $t, newAccount: {password: \"a long enough password\", firstName: \"Sam\", lastName: \"M\"}}) { token user { id } organisation { id } } }",
            json!({"t": invitation}),
        )
        .await;
    let payload = accepted.data()["acceptInvitation"].clone();
    let member_id: Uuid = payload["user"]["id"].as_str().unwrap().parse().unwrap();
    let organisation_id: Uuid = payload["organisation"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let query = "subscription { taskChanged { title status assignee { id email } } }";
    let mut socket = open_with(&stack, payload["token"].as_str().unwrap(), query)
        .await
        .unwrap();

    // Live once a probe on the member's own task subject comes through.
    let nats = stack.nats.client_as(subgraph_kit::bus::OPERATOR).await;
    let subject = stack
        .events
        .live_subject(organisation_id, member_id, "tasks");
    let mut live = false;
    for _ in 0..200 {
        nats.publish(
            subject.clone(),
            task_probe(organisation_id, member_id).to_string().into(),
        )
        .await
        .unwrap();
        nats.flush().await.unwrap();
        if let Ok(Some(message)) =
            tokio::time::timeout(Duration::from_millis(100), next_message(&mut socket)).await
        {
            assert_eq!(
                message["payload"]["data"]["taskChanged"]["title"], "probe",
                "{message}"
            );
            live = true;
            break;
        }
    }
    assert!(live, "the subscription never became live");

    // Engagement must know the member before the task can be assigned to them.
    let task = crm_test_support::wait_for(Duration::from_secs(20), || async {
        let created = owner
            .run(
                "mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }",
                json!({"input": {"title": "Appeler le client", "assigneeId": member_id.to_string()}}),
            )
            .await;
        created.errors().is_empty().then(|| created.body["data"]["createTask"]["id"].clone())
    })
    .await
    .expect("the task is created once the member is known");
    let created = next_task(&mut socket).await;
    assert_eq!(created["title"], "Appeler le client");
    assert_eq!(created["status"], "TODO");
    assert_eq!(
        created["assignee"]["email"], "member@acme.fr",
        "resolved from core"
    );

    owner
        .run(
            "mutation($id: ID!) { changeTaskStatus(id: $id, status: IN_PROGRESS) { id } }",
            json!({"id": task}),
        )
        .await
        .data();
    assert_eq!(next_task(&mut socket).await["status"], "IN_PROGRESS");
}

#[tokio::test]
async fn a_subscription_ends_when_its_token_expires() {
    let stack = Stack::start().await;
    let (_, mut lasting) = subscriber(&stack, "lasting@acme.fr", "Acme").await;
    // The same member, with a token valid a few seconds more.
    let expires_at = chrono::Utc::now() + chrono::Duration::seconds(4);
    let short = subgraph_core::tokens::TokenIssuer::from_pem(
        &stack.signing_key,
        subgraph_kit::auth::TokenPolicy {
            issuer: "crm-core".into(),
            audience: "crm".into(),
        },
        chrono::Duration::seconds(4),
    )
    .unwrap()
    .issue(
        lasting.user_id,
        Some((lasting.organisation_id, subgraph_kit::Role::Owner)),
    )
    .unwrap()
    .token;
    let mut expiring = Subscriber {
        socket: open(&stack, &short).await.unwrap(),
        organisation_id: lasting.organisation_id,
        user_id: lasting.user_id,
    };
    wait_until_live(&stack, &mut expiring).await;
    // It ends (complete, error or close) on its own.
    let ended = ended_within_a_minute(&mut expiring.socket).await;
    assert!(ended, "the subscription outlived its token");
    // …and not before the token expired (`exp` is in whole seconds).
    assert!(chrono::Utc::now() + chrono::Duration::seconds(1) >= expires_at);
    // The member's other subscription, with a valid token, still hears its events.
    wait_until_live(&stack, &mut lasting).await;
}

#[tokio::test]
async fn a_removed_members_subscription_ends() {
    let stack = Stack::start().await;
    let owner = stack.core.sign_up("owner@removal.fr", "Départ").await;
    let member = stack.core.join(&owner, "member@removal.fr", "MEMBER").await;
    let mut subscription = Subscriber {
        socket: open(&stack, &member.token).await.unwrap(),
        organisation_id: member.organisation_id.parse().unwrap(),
        user_id: member.user_id.parse().unwrap(),
    };
    wait_until_live(&stack, &mut subscription).await;
    owner
        .core
        .run(
            "mutation($id: ID!) { removeMember(userId: $id) }",
            json!({"id": member.user_id}),
        )
        .await
        .data();
    let ended = ended_within_a_minute(&mut subscription.socket).await;
    assert!(ended, "a removed member still hears the organisation");
}

/// The first message about subscription `id`, answering pings (`None` after 20 s).
async fn message_about(socket: &mut Socket, id: &str) -> Option<Value> {
    loop {
        let message = next_message(socket).await?;
        if message["id"] == id {
            return Some(message);
        }
    }
}

#[tokio::test]
async fn a_token_holds_a_bounded_number_of_subscriptions() {
    let stack = Stack::start().await;
    let (_, mut acme) = subscriber(&stack, "owner@acme.fr", "Acme").await;
    let (_, mut globex) = subscriber(&stack, "owner@globex.fr", "Globex").await;
    // Subscription 1 is open; 2..=20 fill the connection, 21 is one too many.
    let limit = subgraph_kit::guard::MAX_SUBSCRIPTIONS_PER_CONNECTION;
    for id in 2..=limit + 1 {
        let subscribe =
            json!({"id": id.to_string(), "type": "subscribe", "payload": {"query": SUBSCRIPTION}});
        acme.socket
            .send(Message::text(subscribe.to_string()))
            .await
            .unwrap();
    }
    // Exactly one of them is refused (whichever reached the subgraph last), and it is over:
    // an `error` ends it, an errored `next` is followed by its `complete`.
    let refused = loop {
        let message = next_message(&mut acme.socket)
            .await
            .expect("an answer to the subscription beyond the limit");
        if message.to_string().contains("RATE_LIMITED") {
            break message;
        }
        assert!(message["type"] != "error", "{message}");
    };
    let refused_id = refused["id"].as_str().unwrap().to_owned();
    if refused["type"] != "error" {
        let ended = message_about(&mut acme.socket, &refused_id).await;
        assert_eq!(ended.map(|m| m["type"].clone()), Some(json!("complete")));
    }
    // The others still deliver, and another tenant's subscriptions are untouched.
    wait_until_live(&stack, &mut acme).await;
    wait_until_live(&stack, &mut globex).await;
    // Ending one (the first, live since before the others) frees its slot.
    let complete = json!({"id": "1", "type": "complete"});
    acme.socket
        .send(Message::text(complete.to_string()))
        .await
        .unwrap();
    // (The slot is free once the subgraph has dropped the stream: until then a new one may
    // still be refused.)
    let mut delivered = None;
    for attempt in 0..50 {
        let id = format!("again-{attempt}");
        let again = json!({"id": id, "type": "subscribe", "payload": {"query": SUBSCRIPTION}});
        acme.socket
            .send(Message::text(again.to_string()))
            .await
            .unwrap();
        let mut answer = None;
        for _ in 0..200 {
            stack
                .publish_notification_probe(acme.organisation_id, acme.user_id)
                .await;
            let arrived = tokio::time::timeout(
                Duration::from_millis(100),
                message_about(&mut acme.socket, &id),
            )
            .await;
            if let Ok(message) = arrived {
                answer = message;
                break;
            }
        }
        let answer = answer.expect("an answer to the new subscription");
        if !answer.to_string().contains("RATE_LIMITED") {
            delivered = Some(answer);
            break;
        }
    }
    let delivered = delivered.expect("a slot freed by the ended subscription");
    assert_eq!(delivered["type"], "next", "{delivered}");
    assert!(delivered["payload"]["errors"].is_null(), "{delivered}");
}
