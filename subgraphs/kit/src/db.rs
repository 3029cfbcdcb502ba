//! Database bootstrap: each subgraph owns one PostgreSQL database, created when missing and
//! migrated at startup with the subgraph's embedded migration set.

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sqlx::{
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
    ConnectOptions, Connection, PgConnection, PgPool,
};

/// The kit's event tables (outbox, processed events, dead letters), as every subgraph's
/// migrations must create them: a new subgraph copies this into its first migration, and a
/// test compares every subgraph's tables with it.
pub const EVENT_TABLES_SQL: &str = include_str!("../sql/events.sql");

/// The directory projection's tables (see `directory`), for subgraphs that project it.
pub const DIRECTORY_TABLES_SQL: &str = include_str!("../sql/directory.sql");

/// How a subgraph reaches its database.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://user:password@host:port/database`; the database is created if missing.
    pub url: SecretString,
    /// Upper bound of pooled connections.
    #[serde(
        default = "default_max_connections",
        deserialize_with = "crate::settings::lenient"
    )]
    pub max_connections: u32,
    /// Whether to create the database when it does not exist (needs the CREATEDB right).
    #[serde(
        default = "default_true",
        deserialize_with = "crate::settings::lenient_bool"
    )]
    pub create_if_missing: bool,
    /// Longest a statement may run before PostgreSQL cancels it (`statement_timeout`), in
    /// seconds; 0 means no limit. Migrations are not bound by it.
    #[serde(
        default = "default_statement_timeout",
        deserialize_with = "crate::settings::lenient"
    )]
    pub statement_timeout_seconds: u64,
}

fn default_max_connections() -> u32 {
    10
}

fn default_statement_timeout() -> u64 {
    10
}

fn default_true() -> bool {
    true
}

impl DatabaseSettings {
    pub fn new(url: &str) -> Self {
        Self {
            url: SecretString::from(url.to_owned()),
            max_connections: default_max_connections(),
            create_if_missing: true,
            statement_timeout_seconds: default_statement_timeout(),
        }
    }
}

/// Creates the database if needed, applies `migrator` and connects a pool whose statements
/// are bounded by `statement_timeout_seconds`.
pub async fn connect_and_migrate(
    settings: &DatabaseSettings,
    migrator: &Migrator,
) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(settings.url.expose_secret())
        .context("the database URL is malformed")?
        .log_slow_statements(log::LevelFilter::Warn, Duration::from_millis(500));
    if settings.create_if_missing {
        ensure_database(&options).await?;
    }
    // Migrations may take long on a big database: their own connection, without the limit.
    let mut migrating = PgConnection::connect_with(&options)
        .await
        .with_context(|| unreachable(&options))?;
    migrator
        .run(&mut migrating)
        .await
        .context("applying migrations failed")?;
    migrating.close().await.ok();
    let serving = options.clone().options([(
        "statement_timeout",
        format!("{}s", settings.statement_timeout_seconds),
    )]);
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(serving)
        .await
        .with_context(|| unreachable(&options))
}

/// Creates the target database through the server's `postgres` maintenance database.
pub async fn ensure_database(options: &PgConnectOptions) -> anyhow::Result<()> {
    let name = options
        .get_database()
        .context("the database URL names no database")?
        .to_owned();
    let mut admin = PgConnection::connect_with(&options.clone().database("postgres"))
        .await
        .with_context(|| unreachable(options))?;
    let exists = sqlx::query_scalar!(
        r#"select exists(select 1 from pg_database where datname = $1) as "exists!""#,
        name,
    )
    .fetch_one(&mut admin)
    .await?;
    if !exists {
        // Identifiers cannot be bound; quote it. A concurrent creator is not an error.
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        match sqlx::query(&format!("create database {quoted}"))
            .execute(&mut admin)
            .await
        {
            Ok(_) => tracing::info!(database = %name, "created database"),
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => return Err(e).context(format!("cannot create database {name}")),
        }
    }
    admin.close().await.ok();
    Ok(())
}

fn unreachable(options: &PgConnectOptions) -> String {
    format!(
        "cannot connect to PostgreSQL at {}:{} (is it running? `cargo xtask dev` starts a local one)",
        options.get_host(),
        options.get_port()
    )
}
