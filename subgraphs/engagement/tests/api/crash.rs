//! The engagement binary killed (SIGKILL) while it handles an event: nothing it had begun
//! survives, and the restarted process handles the event exactly once.

use std::time::Duration;

use crm_test_support::wait_for;
use serde_json::json;

use crate::{
    helpers::{spawn_core_only, TestApps},
    process::{settled, EngagementProcess},
};

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
    // (The owner's sign-up confirmation, sent before, is not the client's.)
    assert_eq!(count(&apps, "emails where template = 'welcome'").await, 0);

    let _second = EngagementProcess::start(&apps, &log);
    apps.wait_caught_up().await;
    // Everything delivered is acknowledged: nothing more will come.
    let settled = settled(&apps, Duration::from_secs(30)).await;
    assert!(
        settled,
        "the event is still in flight: see {}",
        log.display()
    );
    assert_eq!(
        count(&apps, "notifications").await,
        1,
        "see {}",
        log.display()
    );
    assert_eq!(count(&apps, "emails where template = 'welcome'").await, 1);
    assert_eq!(count(&apps, "dead_letters").await, 0);
    let _ = std::fs::remove_file(&log);
}
