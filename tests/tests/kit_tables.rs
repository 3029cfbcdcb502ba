//! The kit owns the DDL of its event tables: every subgraph's migrations create the outbox,
//! processed events and dead letters exactly as `subgraph_kit::db::EVENT_TABLES_SQL` does.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use crm_test_support::TestDatabase;
use sqlx::{migrate::Migrator, PgPool};

const TABLES: [&str; 3] = ["outbox", "processed_events", "dead_letters"];

/// Columns, constraints and indexes of the kit's tables, as text to compare.
async fn shape(pool: &PgPool) -> Vec<String> {
    let columns: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
        "select table_name::text, column_name::text, data_type::text, is_nullable::text, column_default::text
         from information_schema.columns
         where table_schema = 'public' and table_name = any($1)
         order by table_name, ordinal_position",
    )
    .bind(TABLES)
    .fetch_all(pool)
    .await
    .unwrap();
    let constraints: Vec<(String, String, String)> = sqlx::query_as(
        "select c.conrelid::regclass::text, c.conname::text, pg_get_constraintdef(c.oid)
         from pg_constraint c
         where c.conrelid::regclass::text = any($1)
         order by 1, 2",
    )
    .bind(TABLES)
    .fetch_all(pool)
    .await
    .unwrap();
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "select indexname::text, indexdef from pg_indexes
         where schemaname = 'public' and tablename = any($1) order by 1",
    )
    .bind(TABLES)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut shape: Vec<String> = columns
        .into_iter()
        .map(|c| format!("column {c:?}"))
        .collect();
    shape.extend(constraints.into_iter().map(|c| format!("constraint {c:?}")));
    shape.extend(indexes.into_iter().map(|i| format!("index {i:?}")));
    shape
}

#[tokio::test]
async fn every_subgraph_creates_the_kit_tables_identically() {
    static NONE: Migrator = Migrator::DEFAULT;
    let reference = TestDatabase::create(&NONE).await;
    sqlx::raw_sql(subgraph_kit::db::EVENT_TABLES_SQL)
        .execute(&reference.pool)
        .await
        .unwrap();
    let expected = shape(&reference.pool).await;
    assert_eq!(
        expected.iter().filter(|l| l.starts_with("column")).count(),
        9 + 4 + 10,
        "the reference has every column: {expected:#?}"
    );
    let subgraphs: [(&str, &Migrator); 5] = [
        ("core", &subgraph_core::MIGRATOR),
        ("commercial", &subgraph_commercial::MIGRATOR),
        ("finance", &subgraph_finance::MIGRATOR),
        ("engagement", &subgraph_engagement::MIGRATOR),
        ("logistics", &subgraph_logistics::MIGRATOR),
    ];
    for (name, migrator) in subgraphs {
        let db = TestDatabase::create(migrator).await;
        assert_eq!(
            shape(&db.pool).await,
            expected,
            "{name}'s migrations create the kit's tables differently"
        );
    }
}

/// The directory projection's rows, as (id, deleted).
async fn societes(pool: &PgPool) -> Vec<(uuid::Uuid, bool)> {
    sqlx::query_as("select id, deleted from societes order by id")
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_read_through_answer_never_overwrites_what_an_event_wrote() {
    use crm_events::directory::{MemberRole, SocieteSnapshot};
    use subgraph_kit::directory::{is_member, societe_exists, write_member, write_societe, Source};

    static NONE: Migrator = Migrator::DEFAULT;
    let db = TestDatabase::create(&NONE).await;
    sqlx::raw_sql(subgraph_kit::db::DIRECTORY_TABLES_SQL)
        .execute(&db.pool)
        .await
        .unwrap();
    let org = uuid::Uuid::new_v4();
    let societe = SocieteSnapshot {
        societe_id: uuid::Uuid::new_v4(),
        name: "Acme SAS".into(),
        siren: "732829320".into(),
        siret: None,
        vat_number: None,
    };
    let at = |minute: i64| Source::Event(chrono::Utc::now() + chrono::Duration::minutes(minute));
    // An answer from core is recorded when nothing is known yet…
    write_societe(&db.pool, org, &societe, false, Source::ReadThrough)
        .await
        .unwrap();
    assert!(societe_exists(&db.pool, org, societe.societe_id)
        .await
        .unwrap());
    // …the deletion's event wins, and an answer that raced it cannot bring it back.
    write_societe(&db.pool, org, &societe, true, at(0))
        .await
        .unwrap();
    write_societe(&db.pool, org, &societe, false, Source::ReadThrough)
        .await
        .unwrap();
    assert!(!societe_exists(&db.pool, org, societe.societe_id)
        .await
        .unwrap());
    assert_eq!(societes(&db.pool).await, vec![(societe.societe_id, true)]);

    let user = uuid::Uuid::new_v4();
    write_member(&db.pool, org, user, None, at(2))
        .await
        .unwrap();
    write_member(
        &db.pool,
        org,
        user,
        Some(MemberRole::Admin),
        Source::ReadThrough,
    )
    .await
    .unwrap();
    assert!(
        !is_member(&db.pool, org, user).await.unwrap(),
        "a removed member stays removed"
    );
    // The role change that came before the removal, delivered again after it.
    write_member(&db.pool, org, user, Some(MemberRole::Admin), at(1))
        .await
        .unwrap();
    assert!(
        !is_member(&db.pool, org, user).await.unwrap(),
        "an older event does not resurrect a removed member"
    );
    write_member(&db.pool, org, user, Some(MemberRole::Member), at(3))
        .await
        .unwrap();
    assert!(
        is_member(&db.pool, org, user).await.unwrap(),
        "until a later event says they joined again"
    );
}
