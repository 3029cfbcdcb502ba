//! Maileva's notifications on the webhook route, over real HTTP and a real database: Basic
//! credentials checked (401, nothing recorded), one effect however often delivered, and an
//! account never reaching another organisation's shipment.

use serde_json::{json, Value};
use subgraph_logistics::{domain::status::ShipmentStatus, webhooks};
use uuid::Uuid;

use crate::submit::{world, World};

const PASSWORD: &str = "hook-password-of-the-account";

async fn serve(world: &World) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let routes = webhooks::routes(world.db.pool.clone());
    tokio::spawn(async move { axum::serve(listener, routes).await });
    format!("http://127.0.0.1:{port}")
}

async fn set_password(world: &World, account: Uuid, password: &str) {
    sqlx::query("update carrier_accounts set webhook_password_sha256 = $2 where id = $1")
        .bind(account)
        .bind(webhooks::password_digest(password))
        .execute(&world.db.pool)
        .await
        .unwrap();
}

async fn notify(base: &str, account: Uuid, login: &str, password: &str, body: &Value) -> u16 {
    reqwest::Client::new()
        .post(format!("{base}/webhooks/maileva/{account}"))
        .basic_auth(login, Some(password))
        .json(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn count(world: &World, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(&world.db.pool)
        .await
        .unwrap()
}

/// Another organisation's account, with its own webhook password.
async fn stranger_account(world: &World) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into carrier_accounts (organisation_id, id, societe_id, label, sandbox, credentials,
             client_id, username, notification_email, sender_line1, sender_line6, sender_country,
             webhook_password_sha256)
         select $1, $2, societe_id, label, sandbox, credentials, client_id, username,
                notification_email, sender_line1, sender_line6, sender_country, $3
         from carrier_accounts where id = $4",
    )
    .bind(Uuid::new_v4())
    .bind(id)
    .bind(webhooks::password_digest("stranger-password"))
    .bind(world.account_id)
    .execute(&world.db.pool)
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn a_signed_in_notification_delivers_the_letter_once() {
    let world = world().await;
    let id = world.queue(b"%PDF-1.7\n%%EOF\n").await;
    world.submitter.run_once().await.unwrap();
    let shipment = world.shipment(id).await;
    assert_eq!(shipment.status, ShipmentStatus::Submitted);
    set_password(&world, world.account_id, PASSWORD).await;
    let base = serve(&world).await;
    let account = world.account_id;
    let login = account.to_string();
    let recipient = shipment.carrier_recipient_id.clone().unwrap();
    let delivered = json!({
        "source": "api.maileva.com", "user_id": "u", "client_id": "c",
        "event_type": "ON_ACKNOWLEDGEMENT_OF_RECEIPT_RECEIVED",
        "resource_type": "registered_mail/v2/recipients",
        "event_date": "2026-12-03T10:23:31.137Z", "event_location": "FR",
        "resource_id": recipient,
        "resource_custom_id": id.simple().to_string(),
    });

    // Wrong credentials: refused, nothing recorded.
    assert_eq!(
        notify(&base, account, &login, "guess", &delivered).await,
        401
    );
    assert_eq!(
        notify(&base, account, "someone", PASSWORD, &delivered).await,
        401
    );
    assert_eq!(
        notify(&base, Uuid::new_v4(), &login, PASSWORD, &delivered).await,
        401
    );
    assert_eq!(count(&world, "webhook_receipts").await, 0);

    // Another organisation's account cannot reach this shipment, with its own credentials or
    // with ours.
    let stranger = stranger_account(&world).await;
    assert_eq!(
        notify(&base, stranger, &login, PASSWORD, &delivered).await,
        401
    );
    let stranger_login = stranger.to_string();
    assert_eq!(
        notify(
            &base,
            stranger,
            &stranger_login,
            "stranger-password",
            &delivered
        )
        .await,
        201
    );
    assert_eq!(
        count(&world, "tracking_events").await,
        0,
        "nothing reached our shipment"
    );
    assert_eq!(world.shipment(id).await.status, ShipmentStatus::Submitted);

    // Ours: delivered, kept with Maileva's code; a replay changes nothing.
    assert_eq!(
        notify(&base, account, &login, PASSWORD, &delivered).await,
        201
    );
    let shipment = world.shipment(id).await;
    assert_eq!(shipment.status, ShipmentStatus::Delivered);
    assert!(shipment.delivered_at.is_some());
    assert_eq!(
        shipment.tracking_status.map(|t| t.label()),
        Some("DELIVERED")
    );
    let events_before = world.events().await;
    assert_eq!(
        events_before.last().unwrap()["payload"]["shipment"]["status"],
        "DELIVERED"
    );
    assert_eq!(
        events_before.last().unwrap()["payload"]["code"],
        "ON_ACKNOWLEDGEMENT_OF_RECEIPT_RECEIVED"
    );
    assert_eq!(
        notify(&base, account, &login, PASSWORD, &delivered).await,
        201
    );
    assert_eq!(count(&world, "tracking_events").await, 1);
    assert_eq!(
        world.events().await.len(),
        events_before.len(),
        "no second effect"
    );

    // An older notification arriving late does not move it back.
    let mut late = delivered.clone();
    late["event_type"] = json!("ON_STATUS_PROCESSED");
    late["resource_type"] = json!("registered_mail/v2/sendings");
    late["resource_id"] = json!(shipment.carrier_sending_id.clone().unwrap());
    late["event_date"] = json!("2026-12-02T08:00:00Z");
    assert_eq!(notify(&base, account, &login, PASSWORD, &late).await, 201);
    let shipment = world.shipment(id).await;
    assert_eq!(shipment.status, ShipmentStatus::Delivered);
    assert_eq!(
        shipment.tracking_status.map(|t| t.label()),
        Some("DELIVERED")
    );
    assert_eq!(
        count(&world, "tracking_events").await,
        2,
        "kept in the history"
    );

    // Not a notification: 400.
    let bad = reqwest::Client::new()
        .post(format!("{base}/webhooks/maileva/{account}"))
        .basic_auth(&login, Some(PASSWORD))
        .body("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
}
