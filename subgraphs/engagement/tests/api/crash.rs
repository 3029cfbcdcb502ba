//! The engagement binary killed (SIGKILL) while it handles an event: nothing it had begun
//! survives, and the restarted process handles the event exactly once.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use async_nats::jetstream;
use crm_test_support::wait_for;
use serde_json::json;

use crate::helpers::{spawn_core_only, TestApps};

/// The engagement binary running as a child process over the test's database, stream and
/// SMTP sink; killed when dropped.
struct EngagementProcess {
    child: Child,
}

impl EngagementProcess {
    fn start(apps: &TestApps, log: &PathBuf) -> Self {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_subgraph-engagement"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info,subgraph_kit::consumer=debug")
            .env("ENGAGEMENT__HTTP__HOST", "127.0.0.1")
            .env("ENGAGEMENT__HTTP__PORT", "0")
            .env("ENGAGEMENT__DATABASE__URL", &apps.db.url)
            .env("ENGAGEMENT__AUTH__JWKS_URL", &apps.jwks_url)
            .env("ENGAGEMENT__EVENTS__NATS_URL", &apps.events.nats_url)
            .env(
                "ENGAGEMENT__EVENTS__SUBJECT_PREFIX",
                &apps.events.subject_prefix,
            )
            .env("ENGAGEMENT__EVENTS__STREAM", &apps.events.stream)
            .env("ENGAGEMENT__EVENTS__LIVE_PREFIX", &apps.events.live_prefix)
            // A crashed instance's event comes back after this wait.
            .env("ENGAGEMENT__EVENTS__ACK_WAIT_SECONDS", "2")
            .env("ENGAGEMENT__EMAIL__SMTP_PORT", apps.smtp.port.to_string())
            .env("ENGAGEMENT__EMAIL__RETRY_DELAY_SECONDS", "0")
            .env(
                "ENGAGEMENT__EMAIL__OPENING_KEY_PEM",
                secrecy::ExposeSecret::expose_secret(&apps.mail_key.to_pem()),
            )
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        Self { child }
    }

    /// SIGKILL: no destructor, no rollback, no goodbye to NATS or PostgreSQL.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for EngagementProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn count(apps: &TestApps, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(&apps.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_killed_process_reprocesses_the_event_once() {
    let apps = spawn_core_only().await;
    let log = std::env::temp_dir().join(format!("crm-engagement-crash-{}.log", apps.db.name));
    let first = EngagementProcess::start(&apps, &log);
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    apps.wait_caught_up().await; // the owner is in the members projection

    // Hold every new notification back: the handler blocks inside its transaction, after
    // marking the event processed and before committing.
    let mut blocker = apps.db.pool.begin().await.unwrap();
    sqlx::query("lock table notifications in exclusive mode")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let created = owner
        .core
        .run(
            "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
            json!({"input": {"kind": "PERSON", "name": "Dupont", "firstName": "Jeanne", "email": "dupont@example.fr"}}),
        )
        .await;
    created.data();
    let database = apps.db.name.clone();
    let blocked = wait_for(Duration::from_secs(20), || async {
        let waiting: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'",
        )
        .bind(&database)
        .fetch_one(&apps.db.pool)
        .await
        .ok()?;
        (waiting > 0).then_some(())
    })
    .await;
    assert!(
        blocked.is_some(),
        "the handler never reached the notifications: see {}",
        log.display()
    );

    first.kill();
    blocker.rollback().await.unwrap();
    // Its backend is gone or going: whatever it had written is rolled back, never committed.
    let rolled_back = wait_for(Duration::from_secs(20), || async {
        let left: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()
               and state like 'idle in transaction%'",
        )
        .bind(&database)
        .fetch_one(&apps.db.pool)
        .await
        .ok()?;
        (left == 0).then_some(())
    })
    .await;
    assert!(
        rolled_back.is_some(),
        "the killed process's transaction lingers"
    );
    assert_eq!(count(&apps, "notifications").await, 0);
    assert_eq!(count(&apps, "emails").await, 0);

    let _second = EngagementProcess::start(&apps, &log);
    apps.wait_caught_up().await;
    // Everything delivered is acknowledged: nothing more will come.
    let js = jetstream::new(async_nats::connect(&apps.events.nats_url).await.unwrap());
    let settled = wait_for(Duration::from_secs(30), || async {
        let mut consumer: jetstream::consumer::PullConsumer = js
            .get_stream(&apps.events.stream)
            .await
            .ok()?
            .get_consumer("engagement-notifications")
            .await
            .ok()?;
        let info = consumer.info().await.ok()?;
        (info.num_pending == 0 && info.num_ack_pending == 0).then_some(())
    })
    .await;
    assert!(
        settled.is_some(),
        "the event is still in flight: see {}",
        log.display()
    );
    assert_eq!(
        count(&apps, "notifications").await,
        1,
        "see {}",
        log.display()
    );
    assert_eq!(count(&apps, "emails").await, 1);
    assert_eq!(count(&apps, "dead_letters").await, 0);
    let _ = std::fs::remove_file(&log);
}
