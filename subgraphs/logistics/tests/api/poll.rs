//! Polling, the fallback of Maileva's notifications, and registered letters' proofs, over a
//! real database and the fake Maileva: La Poste's delivery statuses move a submitted letter to
//! delivered once (a second poll records nothing new); the deposit proof and the
//! acknowledgement of receipt are kept when Maileva has them, and asked for no sooner.

use serde_json::json;
use subgraph_kit::storage::DocumentStore;
use subgraph_logistics::{
    carrier::maileva::Maileva,
    domain::status::{ShipmentStatus, TrackingSource, TrackingStatus},
    ops::{
        poll::Poller,
        proofs::ProofCollector,
        tracking::{apply, CarrierNews},
    },
};

use crate::submit::{world, World};

const PDF: &[u8] = b"%PDF-1.7\n% a letter\n%%EOF\n";

/// The poller over the world's database and Maileva, looking at every letter each run.
fn poller(world: &World) -> Poller<Maileva> {
    Poller {
        pool: world.db.pool.clone(),
        carrier: world.submitter.carrier.clone(),
        vault: world.submitter.vault.clone(),
        interval_seconds: 0,
    }
}

/// A world with one registered letter submitted: the letter and its sending's id.
async fn submitted() -> (World, uuid::Uuid, String) {
    let world = world().await;
    let id = world.queue(PDF).await;
    world.submitter.run_once().await.unwrap();
    let sending = world.fake.sendings()[0].id.clone();
    (world, id, sending)
}

/// An instant `minutes` from now, as La Poste dates its statuses.
fn at(minutes: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339()
}

#[tokio::test]
async fn la_postes_statuses_deliver_a_letter_once() {
    let (world, id, sending) = submitted().await;
    let poller = poller(&world);
    // Submitted, nothing from La Poste yet: the sending's status only.
    assert_eq!(poller.run_once().await.unwrap(), 1);
    assert_eq!(world.shipment(id).await.status, ShipmentStatus::Submitted);
    world.fake.set_delivery_statuses(
        &sending,
        json!([
            {"status": "A01", "label": "Pris en charge", "date": at(1)},
            {"status": "D01", "label": "Distribué", "date": at(2)}
        ]),
    );
    assert_eq!(poller.run_once().await.unwrap(), 2);
    let shipment = world.shipment(id).await;
    assert_eq!(shipment.status, ShipmentStatus::Delivered);
    assert_eq!(shipment.tracking_status, Some(TrackingStatus::Delivered));
    assert!(shipment.delivered_at.is_some());
    // Polled again: nothing new, no second event.
    assert_eq!(poller.run_once().await.unwrap(), 0);
    let changes: Vec<String> = world
        .events()
        .await
        .iter()
        .map(|e| {
            e["payload"]["shipment"]["status"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(changes, ["SUBMITTED", "PROCESSED", "DELIVERED"]);
}

#[tokio::test]
async fn a_registered_letters_proofs_are_kept_when_maileva_has_them() {
    let (world, id, sending) = submitted().await;
    let proofs = ProofCollector {
        pool: world.db.pool.clone(),
        carrier: world.submitter.carrier.clone(),
        vault: world.submitter.vault.clone(),
        store: world.submitter.store.clone(),
    };
    // Only submitted: no proof is due.
    assert_eq!(proofs.run_once().await.unwrap(), 0);
    // Delivered, with both proofs at Maileva.
    world.fake.set_delivery_statuses(
        &sending,
        json!([{"status": "D01", "label": "Distribué", "date": at(1)}]),
    );
    let poller = poller(&world);
    poller.run_once().await.unwrap();
    world
        .fake
        .set_proof(&sending, "deposit_proof", b"%PDF-1.4 deposit");
    assert_eq!(
        proofs.run_once().await.unwrap(),
        1,
        "the AR is not there yet"
    );
    // Asked again no sooner than the retry delay, unless news arrives.
    world
        .fake
        .set_proof(&sending, "acknowledgement_of_receipt", b"%PDF-1.4 signed");
    assert_eq!(proofs.run_once().await.unwrap(), 0);
    // Maileva's notification that the AR is in (as the webhook applies it).
    let mut tx = world.db.pool.begin().await.unwrap();
    let news = CarrierNews {
        source: TrackingSource::Webhook,
        code: "ON_ACKNOWLEDGEMENT_OF_RECEIPT_RECEIVED",
        label: None,
        occurred_at: chrono::Utc::now(),
        location: None,
        raw: json!({}),
    };
    assert!(apply(&mut tx, &world.shipment(id).await, &news)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    assert_eq!(proofs.run_once().await.unwrap(), 1);
    let shipment = world.shipment(id).await;
    let (Some(deposit), Some(receipt)) = (shipment.deposit_proof_id, shipment.acknowledgement_id)
    else {
        panic!("both proofs linked: {shipment:?}");
    };
    for (document, bytes) in [
        (deposit, b"%PDF-1.4 deposit".as_slice()),
        (receipt, b"%PDF-1.4 signed".as_slice()),
    ] {
        let row =
            subgraph_logistics::db::document::find(&world.db.pool, world.organisation_id, document)
                .await
                .unwrap()
                .unwrap();
        assert_eq!(
            world.submitter.store.get(&row.storage_key).await.unwrap(),
            bytes
        );
    }
    assert_eq!(proofs.run_once().await.unwrap(), 0, "nothing left to fetch");
}
