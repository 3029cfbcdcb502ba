//! Queuing a shipment over a real database: the client's address frozen and checked, every
//! broken rule reported with nothing written, and a queued letter submitted by the worker.

use subgraph_kit::error::Error;
use subgraph_logistics::{
    db,
    domain::status::{ShipmentKind, ShipmentReason, ShipmentStatus},
    ops::shipment::{queue, Request},
};
use uuid::Uuid;

use crate::submit::{world, World};

async fn client(world: &World, postal_code: &str) -> db::directory::ClientRow {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into clients (organisation_id, id, name, kind, address_line1, address_line2,
                              postal_code, city, country)
         values ($1, $2, 'Ada Lovelace', 'PERSON', '12 rue des Lilas', 'Appartement 4', $3, 'Paris', 'FR')",
    )
    .bind(world.organisation_id)
    .bind(id)
    .bind(postal_code)
    .execute(&world.db.pool)
    .await
    .unwrap();
    db::directory::find_client(&world.db.pool, world.organisation_id, id)
        .await
        .unwrap()
        .unwrap()
}

fn request(client: Uuid, document_id: Uuid) -> Request {
    Request {
        client_id: client,
        contract_id: None,
        invoice_id: None,
        kind: ShipmentKind::RegisteredLetter,
        reason: ShipmentReason::Manual,
        colour: false,
        duplex: true,
        acknowledgement_of_receipt: true,
        address: None,
        document_id,
        pages: 3,
        created_by: None,
    }
}

async fn count(world: &World, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(&world.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_letter_to_a_client_is_frozen_checked_estimated_and_submitted() {
    let world = world().await;
    let queued_before = world.queue(b"%PDF-1.7\n%%EOF\n").await;
    let document = world.shipment(queued_before).await.document_id.unwrap();
    world.submitter.run_once().await.unwrap();
    let account = db::account::find(&world.db.pool, world.organisation_id, world.account_id)
        .await
        .unwrap()
        .unwrap();
    let client = client(&world, "75011").await;
    let pricing = subgraph_logistics::config::Settings::for_tests(
        subgraph_kit::settings::ServiceSettings::local(
            0,
            "postgres://unused",
            subgraph_kit::settings::VerifySettings::new("http://127.0.0.1:9/jwks"),
            subgraph_kit::events::EventsSettings::new("nats://127.0.0.1:4222"),
        ),
        "",
        "",
        "",
        std::env::temp_dir(),
    )
    .pricing;
    let mut tx = world.db.pool.begin().await.unwrap();
    let row = queue(
        &mut tx,
        world.organisation_id,
        &client,
        &account,
        &pricing,
        request(client.id, document),
        Some("req-1"),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        row.recipient_lines,
        [
            "Ada Lovelace",
            "",
            "Appartement 4",
            "12 rue des Lilas",
            "",
            "75011 PARIS"
        ]
    );
    assert_eq!(row.sender_lines[0], "Acme SAS");
    // Registered 5.36 + receipt 1.25 + 3 sheets (2 printed duplex + the address sheet) × 0.30.
    assert_eq!(
        row.price_estimate.map(|p| p.to_string()),
        Some("7.51".into())
    );
    let created: Vec<serde_json::Value> =
        sqlx::query_scalar("select envelope from outbox where event_type = 'shipment.created'")
            .fetch_all(&world.db.pool)
            .await
            .unwrap();
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0]["payload"]["shipment"]["recipient_name"],
        "Ada Lovelace"
    );
    assert_eq!(created[0]["correlation_id"], "req-1");
    world.submitter.run_once().await.unwrap();
    assert_eq!(
        world.shipment(row.id).await.status,
        ShipmentStatus::Submitted
    );
    let sent = world.fake.sendings();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].recipients[0]["address_line_6"], "75011 PARIS");
}

#[tokio::test]
async fn an_address_breaking_the_postal_rules_is_refused_with_nothing_written() {
    let world = world().await;
    let queued = world.queue(b"%PDF-1.7\n%%EOF\n").await;
    let document = world.shipment(queued).await.document_id.unwrap();
    let account = db::account::find(&world.db.pool, world.organisation_id, world.account_id)
        .await
        .unwrap()
        .unwrap();
    let client = client(&world, "7501").await;
    let pricing = subgraph_logistics::config::Pricing {
        simple_letter: 1.into(),
        registered_letter: 5.into(),
        acknowledgement_of_receipt: 1.into(),
        per_sheet: 0.into(),
        colour_per_sheet: 0.into(),
    };
    let before = (
        count(&world, "shipments").await,
        count(&world, "outbox").await,
    );
    let mut tx = world.db.pool.begin().await.unwrap();
    let refused = queue(
        &mut tx,
        world.organisation_id,
        &client,
        &account,
        &pricing,
        request(client.id, document),
        None,
    )
    .await;
    drop(tx);
    let Err(Error::Problems { problems, .. }) = refused else {
        panic!("{refused:?}")
    };
    assert!(
        problems
            .iter()
            .any(|p| p.field == "clientAddress.postalCode"),
        "{problems:?}"
    );
    // A simple letter has no acknowledgement of receipt; too many sheets for an envelope.
    let mut tx = world.db.pool.begin().await.unwrap();
    let good = client_at(&world).await;
    let mut simple = request(good.id, document);
    simple.kind = ShipmentKind::SimpleLetter;
    let refused = queue(
        &mut tx,
        world.organisation_id,
        &good,
        &account,
        &pricing,
        simple,
        None,
    )
    .await;
    assert!(
        matches!(&refused, Err(Error::Invalid(i)) if i.field == "acknowledgementOfReceipt"),
        "{refused:?}"
    );
    let mut thick = request(good.id, document);
    thick.pages = 200;
    let refused = queue(
        &mut tx,
        world.organisation_id,
        &good,
        &account,
        &pricing,
        thick,
        None,
    )
    .await;
    assert!(
        matches!(&refused, Err(Error::Invalid(i)) if i.field == "document"),
        "{refused:?}"
    );
    drop(tx);
    assert_eq!(
        (
            count(&world, "shipments").await,
            count(&world, "outbox").await
        ),
        before
    );
}

async fn client_at(world: &World) -> db::directory::ClientRow {
    client(world, "69001").await
}
