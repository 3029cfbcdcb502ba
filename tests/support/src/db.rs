//! A fresh database per test: created, migrated, and dropped when the test is done.

use std::str::FromStr;

use sqlx::{
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
    Connection, PgConnection, PgPool,
};
use uuid::Uuid;

/// The server tests create their databases on: `TEST_DATABASE_URL`, else the local default.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database created for one test, migrated, and dropped when the value is dropped.
pub struct TestDatabase {
    pub pool: PgPool,
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// Creates `crm_test_<uuid>` and applies `migrator`.
    ///
    /// # Panics
    /// When PostgreSQL is unreachable: the message says how to point tests at a server.
    pub async fn create(migrator: &Migrator) -> Self {
        let server = server_url();
        let name = format!("crm_test_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&server).await.unwrap_or_else(|err| {
            panic!("tests need PostgreSQL at {server} (set TEST_DATABASE_URL): {err}")
        });
        sqlx::query(&format!("create database {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|err| panic!("cannot create test database {name}: {err}"));
        let options = PgConnectOptions::from_str(&server)
            .unwrap_or_else(|err| panic!("bad TEST_DATABASE_URL: {err}"))
            .database(&name);
        let pool = PgPoolOptions::new()
            .max_connections(20)
            .connect_with(options)
            .await
            .unwrap_or_else(|err| panic!("cannot connect to {name}: {err}"));
        migrator
            .run(&pool)
            .await
            .unwrap_or_else(|err| panic!("migrations failed on {name}: {err}"));
        let url = match server.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => server.clone(),
        };
        Self { pool, name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let server = server_url();
        // Its tasks still hold pool connections: `with (force)` closes them.
        crate::block_on_thread(async move {
            if let Ok(mut admin) = PgConnection::connect(&server).await {
                let _ = sqlx::query(&format!("drop database if exists {name} with (force)"))
                    .execute(&mut admin)
                    .await;
            }
        });
    }
}
