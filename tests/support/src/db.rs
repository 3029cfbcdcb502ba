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

/// The URL of database `name` on the server of `server`.
fn url_of(server: &str, name: &str) -> String {
    match server.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => server.to_owned(),
    }
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
        let url = url_of(&server, &name);
        Self { pool, name, url }
    }
}

impl TestDatabase {
    /// The existing database `name`, reached as the server's administrator; dropped with the
    /// value like any test database.
    ///
    /// # Panics
    /// When it cannot be reached.
    pub async fn existing(name: &str) -> Self {
        let server = server_url();
        let options = PgConnectOptions::from_str(&server)
            .unwrap_or_else(|err| panic!("bad TEST_DATABASE_URL: {err}"))
            .database(name);
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .connect_with(options)
            .await
            .unwrap_or_else(|err| panic!("cannot connect to {name}: {err}"));
        Self {
            pool,
            name: name.to_owned(),
            url: url_of(&server, name),
        }
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

/// A database provisioned as a least-privileged deployment provisions it: by
/// `compose/postgres/provision.sql`, with a migrator role owning it and an app role that may
/// only connect to it (everyone else refused). The roles are dropped when the value is; the
/// database too, when this created it.
pub struct ProvisionedDatabase {
    pub name: String,
    pub app_role: String,
    pub migrator_role: String,
    /// The app role's URL of the database.
    pub app_url: String,
    /// The migrator role's URL of the database.
    pub migrator_url: String,
    created: bool,
}

impl ProvisionedDatabase {
    /// Provisions database `name` (`None`: a new `crm_test_<uuid>`), creating it when missing.
    ///
    /// # Panics
    /// When psql cannot run the provisioning script.
    pub fn provision(name: Option<&str>) -> Self {
        let created = name.is_none();
        let name = name.map_or_else(
            || format!("crm_test_{}", Uuid::new_v4().simple()),
            ToOwned::to_owned,
        );
        let suffix = Uuid::new_v4().simple().to_string();
        let (app_role, migrator_role) = (
            format!("crm_app_{}", &suffix[..16]),
            format!("crm_migrator_{}", &suffix[..16]),
        );
        let (app_password, migrator_password) = (
            Uuid::new_v4().simple().to_string(),
            Uuid::new_v4().simple().to_string(),
        );
        let script = crate::repo_root().join("compose/postgres/provision.sql");
        let output = std::process::Command::new("psql")
            .arg(server_url())
            .args(["-X", "-q", "-v"])
            .arg(format!("db={name}"))
            .arg("-v")
            .arg(format!("app={app_role}"))
            .arg("-v")
            .arg(format!("migrator={migrator_role}"))
            .arg("-v")
            .arg(format!("app_password={app_password}"))
            .arg("-v")
            .arg(format!("migrator_password={migrator_password}"))
            .arg("-f")
            .arg(&script)
            .output()
            .unwrap_or_else(|err| panic!("cannot run psql (install postgresql-client): {err}"));
        assert!(
            output.status.success(),
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let url = |role: &str, password: &str| {
            let server = PgConnectOptions::from_str(&server_url())
                .unwrap_or_else(|err| panic!("bad TEST_DATABASE_URL: {err}"));
            format!(
                "postgres://{role}:{password}@{}:{}/{name}",
                server.get_host(),
                server.get_port()
            )
        };
        Self {
            app_url: url(&app_role, &app_password),
            migrator_url: url(&migrator_role, &migrator_password),
            name,
            app_role,
            migrator_role,
            created,
        }
    }
}

impl Drop for ProvisionedDatabase {
    fn drop(&mut self) {
        let (name, created) = (self.name.clone(), self.created);
        let roles = [self.app_role.clone(), self.migrator_role.clone()];
        let server = server_url();
        crate::block_on_thread(async move {
            let Ok(mut admin) = PgConnection::connect(&server).await else {
                return;
            };
            let first = if created {
                format!("drop database if exists {name} with (force)")
            } else {
                format!("alter database {name} owner to current_user")
            };
            let _ = sqlx::query(&first).execute(&mut admin).await;
            for role in roles {
                for statement in [
                    format!("drop owned by {role}"),
                    format!("drop role if exists {role}"),
                ] {
                    let _ = sqlx::query(&statement).execute(&mut admin).await;
                }
            }
        });
    }
}
