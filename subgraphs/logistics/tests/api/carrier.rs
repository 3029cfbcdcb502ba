//! The Maileva adapter with its real HTTP client against the fake Maileva: the whole
//! submission, idempotency when an answer is lost, and Maileva's refusals.

use crm_test_support::maileva::{self, FakeMaileva};
use secrecy::SecretString;
use serde_json::json;
use subgraph_logistics::{
    carrier::{maileva::Maileva, CarrierError, Credentials, Letter, PostalCarrier},
    config::MailevaSettings,
    domain::{
        address::{check, AddressInput, PostalAddress},
        status::ShipmentKind,
    },
};
use uuid::Uuid;

const PDF: &[u8] = b"%PDF-1.7\n% a letter\n%%EOF\n";

fn client(fake: &FakeMaileva) -> Maileva {
    let token = format!(
        "{}/auth/realms/services/protocol/openid-connect/token",
        fake.url
    );
    Maileva::new(MailevaSettings {
        auth_url: token.clone(),
        api_url: "http://127.0.0.1:9".into(),
        sandbox_auth_url: token,
        sandbox_api_url: fake.url.clone(),
        timeout_seconds: 5,
    })
    .unwrap()
}

fn account(password: &str) -> Credentials {
    Credentials {
        account_id: Uuid::new_v4(),
        sandbox: true,
        client_id: maileva::CLIENT_ID.into(),
        client_secret: SecretString::from(maileva::CLIENT_SECRET),
        username: maileva::USERNAME.into(),
        password: SecretString::from(password),
    }
}

fn address(name: &str) -> PostalAddress {
    check(
        &AddressInput {
            lines: [
                Some(name.into()),
                None,
                None,
                Some("12 rue des Lilas".into()),
                None,
            ],
            postal_code: "75011".into(),
            city: "Paris".into(),
            country: "FR".into(),
        },
        ShipmentKind::RegisteredLetter,
    )
    .unwrap()
}

fn letter<'a>(id: Uuid, sender: &'a PostalAddress) -> Letter<'a> {
    Letter {
        shipment_id: id,
        name: "Facture FAC2026-000001",
        kind: ShipmentKind::RegisteredLetter,
        colour: false,
        duplex: true,
        acknowledgement_of_receipt: true,
        notification_email: "compta@acme.fr",
        sender,
    }
}

#[tokio::test]
async fn a_registered_letter_is_created_filled_and_submitted() {
    let fake = FakeMaileva::start().await;
    let (maileva, account) = (client(&fake), account(maileva::PASSWORD));
    let kind = ShipmentKind::RegisteredLetter;
    let (id, sender) = (Uuid::new_v4(), address("Acme SAS"));
    let sending = maileva
        .create_sending(&account, &letter(id, &sender))
        .await
        .unwrap();
    let document = maileva
        .upload_document(&account, kind, &sending, "facture", PDF.to_vec())
        .await
        .unwrap();
    assert_eq!(
        maileva.documents(&account, kind, &sending).await.unwrap(),
        [document]
    );
    maileva
        .add_recipient(&account, kind, &sending, id, &address("Mme Ada Lovelace"))
        .await
        .unwrap();
    maileva.submit(&account, kind, &sending).await.unwrap();
    // A second submit (its first answer lost) is not an error.
    maileva.submit(&account, kind, &sending).await.unwrap();
    assert_eq!(
        maileva
            .sending(&account, kind, &sending)
            .await
            .unwrap()
            .status,
        "PENDING"
    );
    let recipients = maileva.recipients(&account, kind, &sending).await.unwrap();
    assert_eq!(recipients.len(), 1);
    assert!(recipients[0].registered_number.is_some());
    assert_eq!(
        recipients[0].postage_price.map(|p| p.to_string()),
        Some("1.29".into())
    );

    let sent = fake.sendings();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].api, "registered_mail/v2");
    assert_eq!(sent[0].body["custom_id"], id.to_string());
    assert_eq!(sent[0].body["acknowledgement_of_receipt"], true);
    assert_eq!(sent[0].body["sender_address_line_6"], "75011 PARIS");
    assert_eq!(sent[0].documents[0].1, PDF, "the bytes arrive as sent");
    assert_eq!(sent[0].documents[0].2["name"], "facture");
    assert_eq!(sent[0].recipients[0]["address_line_1"], "Mme Ada Lovelace");
    assert_eq!(sent[0].recipients[0]["custom_id"], id.simple().to_string());

    fake.set_delivery_statuses(
        &sending,
        json!([{"status": "D01", "label": "Distribué", "date": "2026-12-03T09:30:00Z"}]),
    );
    let statuses = maileva
        .delivery_statuses(&account, kind, &sending, &recipients[0].id)
        .await
        .unwrap();
    assert_eq!(statuses.len(), 1);
    assert_eq!(
        (statuses[0].code.as_str(), statuses[0].label.as_str()),
        ("D01", "Distribué")
    );
}

#[tokio::test]
async fn a_creation_whose_answer_was_cut_is_found_again_not_made_twice() {
    let fake = FakeMaileva::start().await;
    let (maileva, account) = (client(&fake), account(maileva::PASSWORD));
    let kind = ShipmentKind::RegisteredLetter;
    let (id, sender) = (Uuid::new_v4(), address("Acme SAS"));
    // Another shipment's sending is there too: the search must pick ours.
    let other = maileva
        .create_sending(&account, &letter(Uuid::new_v4(), &sender))
        .await
        .unwrap();
    fake.cut_next_creation();
    let cut = maileva.create_sending(&account, &letter(id, &sender)).await;
    assert!(matches!(cut, Err(CarrierError::Unavailable(_))), "{cut:?}");
    let found = maileva.find_sending(&account, kind, id).await.unwrap();
    let sent = fake.sendings();
    assert_eq!(sent.len(), 2, "one sending per shipment");
    let ours = sent
        .iter()
        .find(|s| s.body["custom_id"] == id.to_string())
        .unwrap();
    assert_eq!(found.as_deref(), Some(ours.id.as_str()));
    assert_ne!(found.as_deref(), Some(other.as_str()));
    assert_eq!(
        maileva
            .find_sending(&account, kind, Uuid::new_v4())
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn maileva_s_refusals_are_final_and_its_outages_retryable() {
    let fake = FakeMaileva::start().await;
    let (maileva, account) = (client(&fake), account(maileva::PASSWORD));
    let kind = ShipmentKind::SimpleLetter;
    let (id, sender) = (Uuid::new_v4(), address("Acme SAS"));
    let sending = maileva
        .create_sending(&account, &letter_of(kind, id, &sender))
        .await
        .unwrap();

    // Nothing to post yet: Maileva refuses the submission, for good.
    let refused = maileva.submit(&account, kind, &sending).await.unwrap_err();
    assert_eq!(refused.code(), Some("INVALID_DOCUMENTS_COUNT"));
    assert!(!refused.is_retryable());
    // Not a PDF; an address line over 38 characters (bypassing our own check).
    let refused = maileva
        .upload_document(&account, kind, &sending, "x", b"GIF89a".to_vec())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("DOCUMENT_TYPE_NOT_ACCEPTED"));
    let mut long = address("Mme Ada Lovelace");
    long.lines[0] = Some("x".repeat(39));
    let refused = maileva
        .add_recipient(&account, kind, &sending, id, &long)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("ADDRESS_LINE_1_TOO_LONG"));

    // An outage is retryable, and passes.
    fake.unavailable_for(1);
    let down = maileva
        .documents(&account, kind, &sending)
        .await
        .unwrap_err();
    assert!(down.is_retryable(), "{down:?}");
    assert!(maileva
        .documents(&account, kind, &sending)
        .await
        .unwrap()
        .is_empty());

    // Wrong credentials: retried later (the account is the admin's to fix), never "sent".
    let wrong = maileva
        .sending(&account_of("wrong"), kind, &sending)
        .await
        .unwrap_err();
    assert!(wrong.is_retryable(), "{wrong:?}");

    // Notifications are subscribed with our callback and its Basic credentials.
    let password = SecretString::from("hook-password");
    maileva
        .subscribe(
            &account,
            "https://crm.example/webhooks/maileva/1",
            "1",
            &password,
        )
        .await
        .unwrap();
    let subscriptions = fake.subscriptions();
    assert!(subscriptions.len() >= 4, "{subscriptions:?}");
    assert!(subscriptions.iter().any(|s| s["event_type"]
        == "ON_ACKNOWLEDGEMENT_OF_RECEIPT_RECEIVED"
        && s["resource_type"] == "registered_mail/v2/recipients"));
    assert_eq!(
        subscriptions[0]["authentication"]["basic"]["password"],
        "hook-password"
    );
}

fn letter_of<'a>(kind: ShipmentKind, id: Uuid, sender: &'a PostalAddress) -> Letter<'a> {
    Letter {
        kind,
        acknowledgement_of_receipt: false,
        ..letter(id, sender)
    }
}

fn account_of(password: &str) -> Credentials {
    account(password)
}
