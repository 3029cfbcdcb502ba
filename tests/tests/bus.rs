//! The bus as a deployment configures it (the generated `compose/nats/nats.conf`): every
//! service connects as its own user and may publish only its own events and use only its
//! own consumers. (Every end-to-end test also runs its stack on such a server.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use std::{path::PathBuf, time::Duration};

use async_nats::jetstream::{self, consumer::pull};
use crm_e2e::catalogue::{nats_config, SUBGRAPHS};
use crm_test_support::nats::NatsServer;
use subgraph_kit::{
    bus::OPERATOR,
    events::{ensure_stream, EventsSettings},
};

async fn secured() -> NatsServer {
    let services: Vec<&str> = SUBGRAPHS.iter().map(|s| s.bus.service).collect();
    NatsServer::secured(&nats_config(), &services).await
}

/// Publishes a message of `event_type` as `service`; whether the stream acknowledged it.
async fn publish_as(nats: &NatsServer, service: &str, event_type: &str) -> bool {
    let mut js = jetstream::new(nats.client_as(service).await);
    js.set_timeout(Duration::from_secs(2));
    let subject = EventsSettings::new(&nats.url()).subject(event_type);
    let body = format!(r#"{{"type": "{event_type}", "forged_by": "{service}"}}"#);
    match js.publish(subject, body.into()).await {
        Ok(ack) => ack.await.is_ok(),
        Err(_) => false,
    }
}

async fn stream_messages(nats: &NatsServer) -> u64 {
    let js = jetstream::new(nats.client_as(OPERATOR).await);
    let mut stream = js.get_stream("CRM_EVENTS").await.unwrap();
    stream.info().await.unwrap().state.messages
}

#[tokio::test]
async fn a_service_publishes_only_its_own_events_and_nobody_else_gets_in() {
    let nats = secured().await;
    let operator = jetstream::new(nats.client_as(OPERATOR).await);
    ensure_stream(&operator, &EventsSettings::new(&nats.url()))
        .await
        .unwrap();

    assert!(
        publish_as(&nats, "commercial", "contract.signed").await,
        "commercial publishes its own contract.signed"
    );
    for (forger, event_type) in [
        ("core", "contract.signed"),
        ("finance", "contract.signed"),
        ("engagement", "member.invited"),
        ("commercial", "payment.received"),
    ] {
        assert!(
            !publish_as(&nats, forger, event_type).await,
            "{forger} could publish {event_type}"
        );
    }
    assert_eq!(
        stream_messages(&nats).await,
        1,
        "only the genuine event is kept"
    );

    // Without credentials, no connection at all.
    let anonymous = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .connect(nats.url())
        .await;
    assert!(anonymous.is_err(), "an anonymous client connected");
}

#[tokio::test]
async fn a_service_reads_events_only_through_its_own_consumers() {
    let nats = secured().await;
    let events = EventsSettings::new(&nats.url());
    let operator = jetstream::new(nats.client_as(OPERATOR).await);
    ensure_stream(&operator, &events).await.unwrap();

    // Engagement's declared consumer is allowed; one of its own making is not.
    let mut engagement = jetstream::new(nats.client_as("engagement").await);
    engagement.set_timeout(Duration::from_secs(2));
    let stream = engagement.get_stream_no_info("CRM_EVENTS").await.unwrap();
    let declared = stream
        .create_consumer(pull::Config {
            durable_name: Some("engagement-notifications".into()),
            filter_subject: events.subject("member.invited"),
            ..Default::default()
        })
        .await;
    assert!(declared.is_ok(), "{:?}", declared.err());
    let spy = stream
        .create_consumer(pull::Config {
            durable_name: Some("spy".into()),
            filter_subject: events.subject("contract.signed"),
            ..Default::default()
        })
        .await;
    assert!(spy.is_err(), "engagement made a consumer of its own");

    // Nor can it listen to the event subjects directly: the server says so.
    let (tx, mut refusals) = tokio::sync::mpsc::unbounded_channel();
    let events_for = nats.events_for("engagement");
    let listener = async_nats::ConnectOptions::with_user_and_password(
        "engagement".into(),
        secrecy::ExposeSecret::expose_secret(events_for.nats_password.as_ref().unwrap()).into(),
    )
    .custom_inbox_prefix(subgraph_kit::bus::inbox_prefix("engagement"))
    .event_callback(move |event| {
        let tx = tx.clone();
        async move {
            if let async_nats::Event::ServerError(error) = event {
                let _ = tx.send(error.to_string());
            }
        }
    })
    .connect(nats.url())
    .await
    .unwrap();
    let _subscription = listener.subscribe(events.subject(">")).await.unwrap();
    listener.flush().await.unwrap();
    let refusal = tokio::time::timeout(Duration::from_secs(10), refusals.recv())
        .await
        .ok()
        .flatten();
    assert!(
        refusal
            .as_deref()
            .is_some_and(|e| e.to_lowercase().contains("permissions violation")),
        "{refusal:?}"
    );
}

/// A certificate authority and a certificate it signed for 127.0.0.1, made with openssl in
/// `dir`: (CA, certificate, key).
fn certificates(dir: &std::path::Path) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = |args: &[&str]| {
        let output = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("this test needs openssl");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=CRM test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "1",
        "-extfile",
        "server.ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

#[tokio::test]
async fn a_service_given_the_ca_talks_to_the_bus_over_tls_only() {
    let dir = std::env::temp_dir().join(format!("crm-tls-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, cert, key) = certificates(&dir);
    let nats = NatsServer::with_tls(&cert, &key).await;

    let events = EventsSettings {
        nats_tls_ca_file: Some(ca),
        ..EventsSettings::new(&nats.url())
    };
    let client = subgraph_kit::events::connect(&events, "core")
        .await
        .unwrap();
    let js = jetstream::new(client);
    ensure_stream(&js, &events)
        .await
        .expect("the stream is created over TLS");

    // A client that does not trust the CA gets no connection.
    let untrusting = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .connect(nats.url())
        .await;
    assert!(untrusting.is_err(), "a client without the CA connected");
    let _ = std::fs::remove_dir_all(&dir);
}
