//! The submission worker over a real database and the fake Maileva: a queued shipment is
//! submitted once, resumes after a cut answer without a second sending, and fails — never
//! "sent" — when Maileva stays down or refuses.

use std::sync::Arc;

use chrono::Utc;
use crm_test_support::{
    maileva::{self, FakeMaileva},
    TestDatabase,
};
use secrecy::SecretString;
use subgraph_kit::storage::{DocumentStore, LocalStore};
use subgraph_logistics::{
    carrier::maileva::Maileva,
    config::Settings,
    db::{
        account::AccountRow,
        document::{storage_key, DocumentRow},
        shipment::ShipmentRow,
    },
    domain::status::{DocumentKind, ShipmentKind, ShipmentReason, ShipmentStatus},
    ops::{credentials, submit::Submitter},
};
use uuid::Uuid;

const PDF: &[u8] = b"%PDF-1.7\n% an invoice\n%%EOF\n";

pub(crate) struct World {
    pub(crate) db: TestDatabase,
    pub(crate) fake: FakeMaileva,
    pub(crate) submitter: Submitter<Maileva>,
    pub(crate) organisation_id: Uuid,
    pub(crate) account_id: Uuid,
}

pub(crate) async fn world() -> World {
    let db = TestDatabase::create(&subgraph_logistics::MIGRATOR).await;
    let fake = FakeMaileva::start().await;
    let dir = std::env::temp_dir().join(format!("crm-logistics-documents-{}", db.name));
    let settings = Settings::for_tests(
        subgraph_kit::settings::ServiceSettings::local(
            0,
            "postgres://unused",
            subgraph_kit::settings::VerifySettings::new("http://127.0.0.1:9/jwks"),
            subgraph_kit::events::EventsSettings::new("nats://127.0.0.1:4222"),
        ),
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        &fake.url,
        dir.clone(),
    );
    let vault = settings.vault.key().unwrap();
    let (organisation_id, account_id) = (Uuid::new_v4(), Uuid::new_v4());
    let sealed = credentials::seal(
        &vault,
        account_id,
        &SecretString::from(maileva::CLIENT_SECRET),
        &SecretString::from(maileva::PASSWORD),
    )
    .unwrap();
    let now = Utc::now();
    let account = AccountRow {
        organisation_id,
        id: account_id,
        societe_id: Uuid::new_v4(),
        label: "Maileva".into(),
        sandbox: true,
        credentials: sealed,
        client_id: maileva::CLIENT_ID.into(),
        username: maileva::USERNAME.into(),
        notification_email: "compta@acme.fr".into(),
        sender_line1: "Acme SAS".into(),
        sender_line2: None,
        sender_line3: None,
        sender_line4: Some("1 rue de la Paix".into()),
        sender_line5: None,
        sender_line6: "75002 PARIS".into(),
        sender_country: "FR".into(),
        invoices_by_post: false,
        invoice_letter_kind: ShipmentKind::SimpleLetter,
        webhook_password_sha256: "0".repeat(64),
        welcome_letter_document_id: None,
        webhooks_registered_at: None,
        webhooks_error: None,
        active: true,
        created_at: now,
        updated_at: now,
    };
    subgraph_logistics::db::account::insert(&db.pool, &account)
        .await
        .unwrap();
    let submitter = Submitter {
        pool: db.pool.clone(),
        carrier: Arc::new(Maileva::new(settings.maileva.clone()).unwrap()),
        vault,
        store: Arc::new(LocalStore::new(dir)),
        settings: settings.shipping.clone(),
    };
    World {
        db,
        fake,
        submitter,
        organisation_id,
        account_id,
    }
}

impl World {
    /// A queued registered letter carrying `pdf`.
    pub(crate) async fn queue(&self, pdf: &[u8]) -> Uuid {
        let (document_id, id, now) = (Uuid::new_v4(), Uuid::new_v4(), Utc::now());
        let key = storage_key(self.organisation_id, document_id);
        self.submitter.store.put(&key, pdf.to_vec()).await.unwrap();
        let document = DocumentRow {
            id: document_id,
            kind: DocumentKind::Upload,
            file_name: "letter.pdf".into(),
            content_type: "application/pdf".into(),
            size_bytes: i32::try_from(pdf.len()).unwrap(),
            pages: Some(1),
            sha256: String::new(),
            storage_key: key,
            uploaded_by: None,
            created_at: now,
        };
        subgraph_logistics::db::document::insert(&self.db.pool, self.organisation_id, &document)
            .await
            .unwrap();
        let lines = |l: [&str; 6]| l.map(str::to_owned).to_vec();
        let shipment = ShipmentRow {
            organisation_id: self.organisation_id,
            id,
            client_id: Uuid::new_v4(),
            societe_id: Uuid::new_v4(),
            carrier_account_id: self.account_id,
            contract_id: None,
            invoice_id: None,
            kind: ShipmentKind::RegisteredLetter,
            reason: ShipmentReason::Manual,
            status: ShipmentStatus::Queued,
            tracking_status: None,
            colour: false,
            duplex: false,
            acknowledgement_of_receipt: true,
            recipient_lines: lines([
                "Mme Ada Lovelace",
                "",
                "",
                "12 rue des Lilas",
                "",
                "75011 PARIS",
            ]),
            recipient_country: "FR".into(),
            sender_lines: lines(["Acme SAS", "", "", "1 rue de la Paix", "", "75002 PARIS"]),
            sender_country: "FR".into(),
            document_id: Some(document_id),
            pages: Some(1),
            price_estimate: None,
            postage_price: None,
            tracking_number: None,
            carrier_sending_id: None,
            carrier_document_id: None,
            carrier_recipient_id: None,
            create_sent_at: None,
            submitted_at: None,
            delivered_at: None,
            deposit_proof_id: None,
            acknowledgement_id: None,
            attempts: 0,
            next_attempt_at: Some(now),
            last_error: None,
            created_by: None,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.db.pool.begin().await.unwrap();
        subgraph_logistics::db::shipment::insert(&mut tx, &shipment)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    }

    pub(crate) async fn shipment(&self, id: Uuid) -> ShipmentRow {
        subgraph_logistics::db::shipment::find(&self.db.pool, self.organisation_id, id)
            .await
            .unwrap()
            .unwrap()
    }

    pub(crate) async fn events(&self) -> Vec<serde_json::Value> {
        sqlx::query_scalar("select envelope from outbox where event_type = 'shipment.status_changed' order by created_at")
            .fetch_all(&self.db.pool)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_queued_letter_is_submitted_once_with_its_document() {
    let world = world().await;
    let id = world.queue(PDF).await;
    assert_eq!(world.submitter.run_once().await.unwrap(), 1);
    let shipment = world.shipment(id).await;
    assert_eq!(shipment.status, ShipmentStatus::Submitted);
    assert!(shipment.tracking_number.is_some(), "the registered number");
    assert_eq!(
        shipment.postage_price.map(|p| p.to_string()),
        Some("1.29".into())
    );
    let sent = world.fake.sendings();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].status.as_str(), sent[0].documents[0].1.as_slice()),
        ("PENDING", PDF)
    );
    assert_eq!(sent[0].body["custom_id"], id.to_string());
    let events = world.events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["payload"]["shipment"]["status"], "SUBMITTED");
    assert_eq!(
        events[0]["organisation_id"],
        world.organisation_id.to_string()
    );
    // Nothing left to do.
    assert_eq!(world.submitter.run_once().await.unwrap(), 0);
    assert_eq!(world.fake.sendings().len(), 1);
}

#[tokio::test]
async fn a_submission_cut_mid_way_resumes_without_a_second_sending() {
    let world = world().await;
    let id = world.queue(PDF).await;
    world.fake.cut_next_creation();
    // The first attempt loses the creation's answer; the retry (due at once in tests) finds
    // the sending by its custom id and carries on.
    assert_eq!(world.submitter.run_once().await.unwrap(), 2);
    let shipment = world.shipment(id).await;
    assert_eq!(shipment.status, ShipmentStatus::Submitted);
    assert_eq!(shipment.attempts, 1);
    assert!(
        shipment.last_error.is_some(),
        "the failed attempt is recorded"
    );
    let sent = world.fake.sendings();
    assert_eq!(sent.len(), 1, "one sending: {sent:?}");
    assert_eq!(sent[0].documents.len(), 1);
    assert_eq!(sent[0].recipients.len(), 1);
}

#[tokio::test]
async fn maileva_down_for_good_fails_the_shipment_with_its_error_never_sent() {
    let world = world().await;
    let id = world.queue(PDF).await;
    world.fake.unavailable_for(1_000);
    // Three attempts (the tests' maximum), each 503.
    assert_eq!(world.submitter.run_once().await.unwrap(), 3);
    let shipment = world.shipment(id).await;
    assert_eq!(shipment.status, ShipmentStatus::Failed);
    assert_eq!(shipment.attempts, 3);
    assert!(
        shipment
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("503"),
        "{:?}",
        shipment.last_error
    );
    assert!(shipment.submitted_at.is_none());
    let events = world.events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["payload"]["shipment"]["status"], "FAILED");
    assert!(events[0]["payload"]["error"].is_string());
}

#[tokio::test]
async fn a_refusal_fails_the_shipment_at_once_with_maileva_s_code() {
    let world = world().await;
    let id = world.queue(b"GIF89a not a letter").await;
    assert_eq!(world.submitter.run_once().await.unwrap(), 1);
    let shipment = world.shipment(id).await;
    assert_eq!(shipment.status, ShipmentStatus::Failed);
    let events = world.events().await;
    assert_eq!(events[0]["payload"]["code"], "DOCUMENT_TYPE_NOT_ACCEPTED");
    // The draft sending stays at Maileva, never submitted.
    assert_eq!(world.fake.sendings()[0].status, "DRAFT");
}
