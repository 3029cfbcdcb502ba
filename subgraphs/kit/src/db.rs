//! Database bootstrap: each subgraph owns one PostgreSQL database, created when missing and
//! migrated at startup with the subgraph's embedded migration set.

use std::{
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

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
    /// `postgres://user:password@host:port/database`, as the role the subgraph serves with;
    /// the database is created if missing (and allowed).
    pub url: SecretString,
    /// The password of `url`'s role read from this file (a Docker secret), instead of the URL.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Where migrations run, as the role that owns the database, when the serving role is
    /// not its owner (a least-privileged deployment: see `compose/postgres/provision.sql`).
    /// After migrating, the serving role is granted the rows of every table, nothing more.
    #[serde(default)]
    pub migration_url: Option<SecretString>,
    /// The password of `migration_url`'s role read from this file.
    #[serde(default)]
    pub migration_password_file: Option<PathBuf>,
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
            password_file: None,
            migration_url: None,
            migration_password_file: None,
            max_connections: default_max_connections(),
            create_if_missing: true,
            statement_timeout_seconds: default_statement_timeout(),
        }
    }
}

/// Creates the database if needed, applies `migrator` (as the migration role, when one is
/// set, which then grants the serving role the tables' rows) and connects a pool whose
/// statements are bounded by `statement_timeout_seconds`.
pub async fn connect_and_migrate(
    settings: &DatabaseSettings,
    migrator: &Migrator,
) -> anyhow::Result<PgPool> {
    let options = serving_options(settings)?;
    let migrating_options = match &settings.migration_url {
        Some(url) => with_password(
            PgConnectOptions::from_str(url.expose_secret())
                .context("the migration database URL is malformed")?,
            settings.migration_password_file.as_deref(),
        )?,
        None => options.clone(),
    };
    if settings.create_if_missing {
        ensure_database(&migrating_options).await?;
    }
    // Migrations may take long on a big database: their own connection, without the limit.
    let mut migrating = PgConnection::connect_with(&migrating_options)
        .await
        .with_context(|| unreachable(&migrating_options))?;
    migrator
        .run(&mut migrating)
        .await
        .context("applying migrations failed")?;
    if options.get_username() != migrating_options.get_username() {
        grant_rows(&mut migrating, options.get_username()).await?;
    }
    migrating.close().await.ok();
    pool(settings, &options).await
}

/// Grants `role` what serving needs in the `public` schema — reading and writing the rows of
/// every table, using the sequences — and nothing on the migrations' own bookkeeping.
async fn grant_rows(migrating: &mut PgConnection, role: &str) -> anyhow::Result<()> {
    let role = quote_identifier(role);
    for statement in [
        format!("grant usage on schema public to {role}"),
        format!("grant select, insert, update, delete on all tables in schema public to {role}"),
        format!("grant usage, select on all sequences in schema public to {role}"),
        format!("revoke all on _sqlx_migrations from {role}"),
    ] {
        sqlx::query(&statement)
            .execute(&mut *migrating)
            .await
            .with_context(|| format!("cannot grant the serving role its tables ({statement})"))?;
    }
    Ok(())
}

/// `url` with its password from `password_file`, when set.
fn serving_options(settings: &DatabaseSettings) -> anyhow::Result<PgConnectOptions> {
    with_password(
        PgConnectOptions::from_str(settings.url.expose_secret())
            .context("the database URL is malformed")?,
        settings.password_file.as_deref(),
    )
    .map(|options| options.log_slow_statements(log::LevelFilter::Warn, Duration::from_millis(500)))
}

fn with_password(
    options: PgConnectOptions,
    password_file: Option<&Path>,
) -> anyhow::Result<PgConnectOptions> {
    let Some(path) = password_file else {
        return Ok(options);
    };
    let password = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the database password file {}", path.display()))?;
    Ok(options.password(password.trim_end_matches(['\r', '\n'])))
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Connects a pool to the database as it is (not created, not migrated): for operator
/// commands.
///
/// # Errors
/// When the URL is malformed or the database unreachable.
pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    pool(settings, &serving_options(settings)?).await
}

async fn pool(settings: &DatabaseSettings, options: &PgConnectOptions) -> anyhow::Result<PgPool> {
    let serving = options.clone().options([(
        "statement_timeout",
        format!("{}s", settings.statement_timeout_seconds),
    )]);
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(serving)
        .await
        .with_context(|| unreachable(options))
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
        let quoted = quote_identifier(&name);
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
