//! Finance on the least-privileged database roles a deployment provisions
//! (`compose/postgres/provision.sql`): migrated by its migrator role, serving as its app
//! role, which reaches no other subgraph's database and changes no schema.

use std::str::FromStr;

use crm_events::EventSet;
use crm_test_support::{db::ProvisionedDatabase, harness::SubgraphApps, Harness, TestDatabase};
use serde_json::json;
use sqlx::{postgres::PgConnectOptions, ConnectOptions, Connection, PgConnection};
use subgraph_kit::directory::DirectoryEvent;

use crate::helpers::societe_with_settings;

#[tokio::test]
async fn finance_serves_on_its_own_roles_and_cannot_reach_cores_database() {
    let harness = Harness::start().await;
    // Core's database as a deployment provisions it (core itself keeps the test's role).
    let core_db = ProvisionedDatabase::provision(Some(&harness.core_db.name));
    let finance_db = ProvisionedDatabase::provision(None);
    let mut service = harness.service_on(&finance_db.app_url);
    service.database.migration_url = Some(finance_db.migrator_url.clone().into());
    service.database.create_if_missing = false;
    let settings = subgraph_finance::config::Settings::for_tests(
        service,
        &harness.base_url,
        std::env::temp_dir().join(format!("crm-finance-documents-{}", finance_db.name)),
    );
    let built = subgraph_finance::startup::build(settings, None).await;
    // The test reads finance's database as the server's administrator.
    let admin = TestDatabase::existing(&finance_db.name).await;
    let apps = SubgraphApps::new(
        harness,
        admin,
        Some(built),
        ("finance-directory", DirectoryEvent::TYPES),
        true,
    );

    // It serves: core's events projected, a société's settings written, read back.
    let owner = apps.sign_up("owner@example.fr", "Acme").await;
    societe_with_settings(&apps, &owner, "Acme SAS", "732829320", "FR44732829320").await;
    let read = owner
        .run("{ invoices(first: 5) { totalCount } }", json!({}))
        .await;
    assert_eq!(read.data()["invoices"]["totalCount"], 0);

    // The migrator owns what the migrations made.
    let owners: Vec<String> = sqlx::query_scalar(
        "select distinct tableowner::text from pg_tables where schemaname = 'public'",
    )
    .fetch_all(&apps.db.pool)
    .await
    .unwrap();
    assert_eq!(owners, vec![finance_db.migrator_role.clone()]);
    for role in [&finance_db.app_role, &finance_db.migrator_role] {
        let powers: (bool, bool, bool) = sqlx::query_as(
            "select rolsuper, rolcreatedb, rolcreaterole from pg_roles where rolname = $1",
        )
        .bind(role)
        .fetch_one(&apps.db.pool)
        .await
        .unwrap();
        assert_eq!(powers, (false, false, false), "{role}");
    }

    // Finance's role cannot even connect to core's database.
    let into_core = PgConnectOptions::from_str(&finance_db.app_url)
        .unwrap()
        .database(&core_db.name);
    let refused = into_core.connect().await.err().map(|e| e.to_string());
    assert!(
        refused
            .as_deref()
            .is_some_and(|e| e.contains("permission denied for database")),
        "{refused:?}"
    );

    // On its own database it reads and writes rows, and changes nothing else.
    let mut app = PgConnection::connect(&finance_db.app_url).await.unwrap();
    let count: i64 = sqlx::query_scalar("select count(*) from invoices")
        .fetch_one(&mut app)
        .await
        .unwrap();
    assert_eq!(count, 0);
    for forbidden in [
        "create table intruder (x int)",
        "drop table invoices",
        "alter table invoices add column x int",
        "truncate invoices",
        "delete from _sqlx_migrations",
    ] {
        let refused = sqlx::query(forbidden).execute(&mut app).await;
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("permission denied") || message.contains("must be owner"),
            "{forbidden}: {message:?}"
        );
    }
    app.close().await.unwrap();
    drop(apps);
    drop(core_db);
}
