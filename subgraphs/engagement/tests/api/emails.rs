//! E-mail: queued with the event that causes it, delivered over SMTP to a local sink,
//! retried, given up on, and never doubled by a redelivered event.

use std::time::Duration;

use async_nats::{header::HeaderMap, jetstream};
use crm_test_support::{wait_for, GraphqlClient};
use serde_json::json;

use crate::helpers::*;

async fn create_client_with_email(session: &Session, name: &str, email: Option<&str>) {
    session
        .core
        .run(
            "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
            json!({"input": {"kind": "PERSON", "name": name, "firstName": "Jeanne", "email": email}}),
        )
        .await
        .data();
}

async fn wait_for_messages(
    apps: &TestApps,
    count: usize,
) -> Vec<crm_test_support::smtp::SmtpMessage> {
    wait_for(Duration::from_secs(20), || async {
        let messages = apps.smtp.messages();
        (messages.len() >= count).then_some(messages)
    })
    .await
    .unwrap_or_else(|| panic!("fewer than {count} messages reached the SMTP sink"))
}

const EMAILS: &str = "query($s: EmailStatus) { emails(status: $s) { recipient subject template status attempts lastError } }";

#[tokio::test]
async fn a_new_client_with_an_address_gets_a_welcome_email() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    create_client_with_email(&owner, "Dupont", Some("Jeanne.Dupont@example.fr")).await;
    create_client_with_email(&owner, "Martin", None).await;
    apps.wait_caught_up().await;
    let messages = wait_for_messages(&apps, 1).await;
    assert_eq!(messages[0].to, ["jeanne.dupont@example.fr"]);
    assert_eq!(messages[0].from, "no-reply@crm.example");
    assert!(
        messages[0].data.contains("Subject: Bienvenue"),
        "{}",
        messages[0].data
    );
    assert!(messages[0].data.contains("Bonjour Jeanne,"));
    assert!(
        messages[0]
            .data
            .contains("Content-Type: text/plain; charset=utf-8"),
        "{}",
        messages[0].data
    );
    let listed = wait_for(Duration::from_secs(10), || async {
        let response = owner.run(EMAILS, json!({})).await;
        let emails = response.data()["emails"].clone();
        (emails[0]["status"] == "SENT").then_some(emails)
    })
    .await
    .expect("the message is marked sent");
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "no e-mail for a client without an address"
    );
    assert_eq!(listed[0]["template"], "welcome");
    assert_eq!(listed[0]["attempts"], 1);
}

#[tokio::test]
async fn an_invitation_is_emailed_with_its_link() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let invited = owner
        .core
        .run(
            "mutation { inviteMember(input: {email: \"new@example.fr\", role: MEMBER}) { invitation { id } } }",
            json!({}),
        )
        .await;
    invited.data();
    let token = apps
        .mailed(crm_test_support::mailbox::INVITATION, "new@example.fr")
        .await;
    let messages = wait_for_messages(&apps, 1).await;
    assert_eq!(messages[0].to, ["new@example.fr"]);
    let link = format!("http://localhost:3000/invitations/{token}");
    // Long lines may be folded by quoted-printable encoding: compare without soft breaks.
    let body = messages[0].data.replace("=\n", "");
    assert!(body.contains(&link), "{body}");

    // The token is nowhere but in the e-mail: not in core's outbox, the stream, engagement's
    // tables (once sent, not even sealed) or its dead letters.
    wait_for(Duration::from_secs(10), || async {
        let response = owner.run(EMAILS, json!({"s": "SENT"})).await;
        (response.data()["emails"].as_array()?.len() == 1).then_some(())
    })
    .await
    .expect("the message is marked sent");
    let holding = |pool: sqlx::PgPool, table: &'static str| {
        let token = token.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!(
                "select count(*) from {table} t where strpos(t::text, $1) > 0"
            ))
            .bind(token)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(holding(apps.core_db.pool.clone(), "outbox").await, 0);
    for table in [
        "emails",
        "processed_events",
        "dead_letters",
        "notifications",
    ] {
        assert_eq!(holding(apps.db.pool.clone(), table).await, 0, "{table}");
    }
    let sealed: Option<String> = sqlx::query_scalar("select sealed_secret from emails")
        .fetch_one(&apps.db.pool)
        .await
        .unwrap();
    assert_eq!(sealed, None, "the sealed secret is erased once sent");
    let client = async_nats::connect(apps.events.nats_url.as_str())
        .await
        .unwrap();
    let stream = jetstream::new(client)
        .get_stream(&apps.events.stream)
        .await
        .unwrap();
    let published = stream
        .get_last_raw_message_by_subject(&apps.events.subject("member.invited"))
        .await
        .unwrap();
    let published = String::from_utf8_lossy(&published.payload).into_owned();
    assert!(published.contains("sealed.v1."), "{published}");
    assert!(!published.contains(&token), "{published}");
}

#[tokio::test]
async fn a_secret_sealed_for_another_key_fails_the_message_and_is_erased() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let stranger = subgraph_kit::sealed::OpeningKey::generate();
    let sealed = stranger.sealing_key().seal("not for engagement").unwrap();
    let organisation: uuid::Uuid = owner.organisation_id.parse().unwrap();
    let mut tx = apps.db.pool.begin().await.unwrap();
    subgraph_engagement::db::email::queue_email(
        &mut tx,
        subgraph_engagement::db::email::NewEmail {
            organisation_id: organisation,
            recipient: "someone@example.fr",
            subject: "Invitation",
            body_text: "lien : {{secret}}",
            template: "invitation",
            source_event_id: None,
            sealed_secret: Some(&sealed),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let failed = wait_for(Duration::from_secs(20), || async {
        let response = owner.run(EMAILS, json!({"s": "FAILED"})).await;
        let emails = response.data()["emails"].clone();
        (emails.as_array()?.len() == 1).then_some(emails)
    })
    .await
    .expect("a secret that cannot be opened fails the message at once");
    assert_eq!(failed[0]["attempts"], 1);
    assert!(failed[0]["lastError"]
        .as_str()
        .unwrap()
        .contains("cannot open"));
    let sealed: Option<String> = sqlx::query_scalar("select sealed_secret from emails")
        .fetch_one(&apps.db.pool)
        .await
        .unwrap();
    assert_eq!(sealed, None);
    assert!(apps.smtp.messages().is_empty());
}

#[tokio::test]
async fn a_refused_delivery_is_retried_and_repeated_refusals_end_failed() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    apps.smtp.refuse_next(2);
    create_client_with_email(&owner, "Dupont", Some("dupont@example.fr")).await;
    wait_for_messages(&apps, 1).await;
    let sent = wait_for(Duration::from_secs(10), || async {
        let response = owner.run(EMAILS, json!({"s": "SENT"})).await;
        let emails = response.data()["emails"].clone();
        (emails.as_array().is_some_and(|e| e.len() == 1)).then_some(emails)
    })
    .await
    .expect("delivered after two refusals");
    assert_eq!(sent[0]["attempts"], 3);

    apps.smtp.refuse_next(100);
    create_client_with_email(&owner, "Martin", Some("martin@example.fr")).await;
    let failed = wait_for(Duration::from_secs(20), || async {
        let response = owner.run(EMAILS, json!({"s": "FAILED"})).await;
        let emails = response.data()["emails"].clone();
        (emails.as_array().is_some_and(|e| e.len() == 1)).then_some(emails)
    })
    .await
    .expect("given up after max attempts");
    assert_eq!(failed[0]["attempts"], 5);
    assert!(failed[0]["lastError"].as_str().unwrap().contains("451"));
    assert_eq!(apps.smtp.messages().len(), 1);
    // Delivery status is for admins.
    let member = apps.join(&owner, "member@example.fr", "MEMBER").await;
    assert_eq!(
        member.run(EMAILS, json!({})).await.error_code(),
        "FORBIDDEN"
    );
    let anonymous = GraphqlClient::new(&apps.url).run(EMAILS, json!({})).await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_redelivered_event_yields_one_notification_and_one_email() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    create_client_with_email(&owner, "Dupont", Some("dupont@example.fr")).await;
    apps.wait_caught_up().await;
    wait_for_messages(&apps, 1).await;

    // Deliver the same client.created again, under a new message id so JetStream keeps it.
    let client = async_nats::connect(apps.events.nats_url.as_str())
        .await
        .unwrap();
    let js = jetstream::new(client);
    let stream = js.get_stream(&apps.events.stream).await.unwrap();
    let original = stream
        .get_last_raw_message_by_subject(&apps.events.subject("client.created"))
        .await
        .unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Msg-Id", uuid::Uuid::new_v4().to_string().as_str());
    js.publish_with_headers(
        original.subject.to_string(),
        headers,
        original.payload.clone(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    let drained = wait_for(Duration::from_secs(20), || async {
        let stream = js.get_stream(&apps.events.stream).await.ok()?;
        let info = stream
            .consumer_info("engagement-notifications")
            .await
            .ok()?;
        (info.num_pending == 0 && info.num_ack_pending == 0 && info.delivered.stream_sequence >= 3)
            .then_some(())
    })
    .await;
    assert!(drained.is_some(), "the repeat was consumed");
    let count = |table: &'static str| {
        let pool = apps.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&format!("select count(*) from {table}"))
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("notifications").await, 1);
    assert_eq!(count("emails where template = 'welcome'").await, 1);
    assert_eq!(apps.smtp.messages().len(), 1);
}

#[tokio::test]
async fn another_organisation_neither_sees_emails_nor_purges_notifications() {
    let apps = spawn_apps().await;
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    let intruder = apps.sign_up("intruder@example.fr", "Evil").await;
    create_client_with_email(&owner, "Dupont", Some("dupont@example.fr")).await;
    apps.wait_caught_up().await;
    wait_for_messages(&apps, 1).await;
    // The owner's notification is read and old: purgeable by the owner only.
    owner
        .run("mutation { markAllNotificationsRead }", json!({}))
        .await
        .data();
    sqlx::query("update notifications set created_at = now() - interval '90 days'")
        .execute(&apps.db.pool)
        .await
        .unwrap();

    assert_eq!(
        intruder.run(EMAILS, json!({})).await.data()["emails"],
        json!([])
    );
    let purged = intruder
        .run("mutation { purgeReadNotifications(days: 30) }", json!({}))
        .await;
    assert_eq!(purged.data()["purgeReadNotifications"], 0);
    let remaining: i64 = sqlx::query_scalar("select count(*) from notifications")
        .fetch_one(&apps.db.pool)
        .await
        .unwrap();
    assert_eq!(remaining, 1);

    assert_eq!(
        owner.run(EMAILS, json!({})).await.data()["emails"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let purged = owner
        .run("mutation { purgeReadNotifications(days: 30) }", json!({}))
        .await;
    assert_eq!(purged.data()["purgeReadNotifications"], 1);
}

#[tokio::test]
async fn account_emails_carry_their_links_and_are_no_admins_business() {
    use crm_test_support::mailbox::{PASSWORD_RESET, SIGN_UP};
    let apps = spawn_apps().await;
    let ask = "mutation($input: SignUpInput!) { signUp(input: $input) { email } }";
    let input = json!({"input": {"email": "lea@example.fr", "password": crm_test_support::PASSWORD,
                       "firstName": "Léa", "lastName": "Roux", "organisationName": "Roux"}});
    apps.anonymous().run(ask, input.clone()).await.data();
    let token = apps.mailed(SIGN_UP, "lea@example.fr").await;
    let messages = wait_for_messages(&apps, 1).await;
    assert_eq!(messages[0].to, ["lea@example.fr"]);
    let body = messages[0].data.replace("=\n", "");
    assert!(
        body.contains(&format!("http://localhost:3000/sign-up/confirm/{token}")),
        "{body}"
    );
    let owner = apps.session(&apps.confirm_sign_up("lea@example.fr").await);

    // Asking again for the address: its owner is told, with no link to confirm anything.
    apps.anonymous().run(ask, input).await.data();
    let messages = wait_for_messages(&apps, 2).await;
    let body = messages[1].data.replace("=\n", "");
    assert_eq!(messages[1].to, ["lea@example.fr"]);
    assert!(body.contains("http://localhost:3000/login"), "{body}");
    assert!(!body.contains("sign-up/confirm"), "{body}");

    apps.anonymous()
        .run(
            "mutation { requestPasswordReset(email: \"lea@example.fr\") }",
            json!({}),
        )
        .await
        .data();
    let reset = apps.mailed(PASSWORD_RESET, "lea@example.fr").await;
    let messages = wait_for_messages(&apps, 3).await;
    let body = messages[2].data.replace("=\n", "");
    assert!(
        body.contains(&format!("http://localhost:3000/password-reset/{reset}")),
        "{body}"
    );

    // A person's account e-mails are theirs: not listed to the organisation's admins, nor
    // to anybody else's; once sent, their secrets are nowhere in engagement.
    let intruder = apps.sign_up("intruder@example.fr", "Evil").await;
    for session in [&owner, &intruder] {
        assert_eq!(
            session.run(EMAILS, json!({})).await.data()["emails"],
            json!([])
        );
    }
    let sent = wait_for(Duration::from_secs(10), || async {
        let sent: i64 = sqlx::query_scalar(
            "select count(*) from emails where status = 'SENT' and sealed_secret is null",
        )
        .fetch_one(&apps.db.pool)
        .await
        .ok()?;
        (sent == 4).then_some(())
    })
    .await;
    assert!(
        sent.is_some(),
        "every account e-mail is sent, its secret erased"
    );
    let holding: i64 = sqlx::query_scalar(
        "select count(*) from emails e where strpos(e::text, $1) > 0 or strpos(e::text, $2) > 0",
    )
    .bind(&token)
    .bind(&reset)
    .fetch_one(&apps.db.pool)
    .await
    .unwrap();
    assert_eq!(holding, 0);
}
