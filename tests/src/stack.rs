//! Subgraphs started in-process on free ports, each over its own database, stopped when
//! their handle drops.

use secrecy::SecretString;
use sqlx::PgPool;
use tokio::{sync::oneshot, task::JoinHandle};

/// A subgraph serving in this process.
pub struct RunningSubgraph {
    pub name: &'static str,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl RunningSubgraph {
    /// The GraphQL endpoint.
    pub fn url(&self) -> String {
        format!("{}/graphql", self.base_url)
    }

    /// Stops serving and waits for in-flight requests.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSubgraph {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Settings of a core subgraph on `port` (0: any) signing with `signing_key`, publishing
/// events as `events` says.
pub fn core_settings(
    database_url: &str,
    signing_key: SecretString,
    port: u16,
    events: subgraph_kit::events::EventsSettings,
) -> subgraph_core::config::Settings {
    use subgraph_core::config::{AuthSettings, HttpSettings, Settings};
    Settings {
        http: HttpSettings {
            host: "127.0.0.1".into(),
            port,
        },
        database: subgraph_kit::db::DatabaseSettings::new(database_url),
        auth: AuthSettings {
            issuer: "crm-core".into(),
            audience: "crm".into(),
            token_ttl_seconds: 3600,
            signing_key_pem: Some(signing_key),
            signing_key_file: None,
            invitation_ttl_days: 7,
        },
        events,
    }
}

/// Settings of an engagement subgraph on `port` verifying tokens with `jwks_url`.
pub fn engagement_settings(
    database_url: &str,
    jwks_url: &str,
    port: u16,
    events: subgraph_kit::events::EventsSettings,
) -> subgraph_engagement::config::Settings {
    use subgraph_engagement::config::{AuthSettings, HttpSettings, Settings};
    Settings {
        http: HttpSettings {
            host: "127.0.0.1".into(),
            port,
        },
        database: subgraph_kit::db::DatabaseSettings::new(database_url),
        auth: AuthSettings {
            jwks_url: jwks_url.to_owned(),
            issuer: "crm-core".into(),
            audience: "crm".into(),
        },
        events,
        // Development mail catchers (Mailpit, MailHog) listen on 1025.
        email: subgraph_engagement::config::EmailSettings::local(1025, 60),
    }
}

/// Settings of a commercial subgraph on `port` verifying tokens with `jwks_url`; the expiry
/// job runs hourly.
pub fn commercial_settings(
    database_url: &str,
    jwks_url: &str,
    port: u16,
    events: subgraph_kit::events::EventsSettings,
) -> subgraph_commercial::config::Settings {
    use subgraph_commercial::config::{AuthSettings, HttpSettings, JobSettings, Settings};
    Settings {
        http: HttpSettings {
            host: "127.0.0.1".into(),
            port,
        },
        database: subgraph_kit::db::DatabaseSettings::new(database_url),
        auth: AuthSettings {
            jwks_url: jwks_url.to_owned(),
            issuer: "crm-core".into(),
            audience: "crm".into(),
        },
        events,
        jobs: JobSettings {
            expiry_interval_seconds: 3600,
        },
    }
}

/// Starts commercial (over `pool` if given, else its configured database).
pub async fn start_commercial(
    settings: subgraph_commercial::config::Settings,
    pool: Option<PgPool>,
) -> anyhow::Result<RunningSubgraph> {
    let app = match pool {
        Some(pool) => subgraph_commercial::startup::App::with_pool(settings, pool).await?,
        None => subgraph_commercial::startup::App::build(settings).await?,
    };
    let address = app.local_addr()?;
    Ok(spawn("commercial", address, |stop| app.run_until(stop)))
}

/// Settings of a finance subgraph on `port` verifying tokens with `jwks_url`.
/// `port` 0 picks a free one now, so that the documents' public URL can name it; PDFs go to
/// `documents_dir`.
pub fn finance_settings(
    database_url: &str,
    jwks_url: &str,
    port: u16,
    events: subgraph_kit::events::EventsSettings,
    documents_dir: std::path::PathBuf,
) -> subgraph_finance::config::Settings {
    use subgraph_finance::config::{AuthSettings, DocumentSettings, HttpSettings, Settings};
    let port = match port {
        0 => crate::gateway::free_port().unwrap_or(0),
        port => port,
    };
    Settings {
        http: HttpSettings {
            host: "127.0.0.1".into(),
            port,
        },
        documents: DocumentSettings {
            dir: documents_dir,
            public_url: format!("http://127.0.0.1:{port}"),
        },
        database: subgraph_kit::db::DatabaseSettings::new(database_url),
        auth: AuthSettings {
            jwks_url: jwks_url.to_owned(),
            issuer: "crm-core".into(),
            audience: "crm".into(),
        },
        events,
    }
}

/// Starts finance (over `pool` if given, else its configured database).
pub async fn start_finance(
    settings: subgraph_finance::config::Settings,
    pool: Option<PgPool>,
) -> anyhow::Result<RunningSubgraph> {
    let app = match pool {
        Some(pool) => subgraph_finance::startup::App::with_pool(settings, pool).await?,
        None => subgraph_finance::startup::App::build(settings).await?,
    };
    let address = app.local_addr()?;
    Ok(spawn("finance", address, |stop| app.run_until(stop)))
}

/// Starts engagement (over `pool` if given, else its configured database).
pub async fn start_engagement(
    settings: subgraph_engagement::config::Settings,
    pool: Option<PgPool>,
) -> anyhow::Result<RunningSubgraph> {
    let app = match pool {
        Some(pool) => subgraph_engagement::startup::App::with_pool(settings, pool).await?,
        None => subgraph_engagement::startup::App::build(settings).await?,
    };
    let address = app.local_addr()?;
    Ok(spawn("engagement", address, |stop| app.run_until(stop)))
}

/// Runs a built app on this runtime until its handle stops or drops.
fn spawn<F>(
    name: &'static str,
    address: std::net::SocketAddr,
    run: impl FnOnce(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>) -> F,
) -> RunningSubgraph
where
    F: std::future::Future<Output = std::io::Result<()>> + Send + 'static,
{
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(run(Box::pin(async move {
        let _ = rx.await;
    })));
    RunningSubgraph {
        name,
        base_url: format!("http://{address}"),
        shutdown: Some(tx),
        task: Some(task),
    }
}

/// Starts core over an already migrated `pool`.
pub async fn start_core(
    settings: subgraph_core::config::Settings,
    pool: Option<PgPool>,
) -> anyhow::Result<RunningSubgraph> {
    let app = match pool {
        Some(pool) => subgraph_core::startup::App::with_pool(settings, pool).await?,
        None => subgraph_core::startup::App::build(settings).await?,
    };
    let address = app.local_addr()?;
    Ok(spawn("core", address, |stop| app.run_until(stop)))
}
