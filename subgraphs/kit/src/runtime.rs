//! The subgraph runtime: one builder that wires what every subgraph has — its database pool
//! (created and migrated), the NATS client, the GraphQL endpoint with its per-request
//! DataLoaders, the outbox relay — and what each declares on top: consumers, scheduled jobs,
//! background tasks and extra routes. A subgraph's `startup.rs` is that declaration.
//!
//! ```ignore
//! let subgraph = Subgraph::connect(&BUS, &settings.service, &MIGRATOR, pool, verifier).await?;
//! subgraph
//!     .graphql(schema, loaders)
//!     .consumer("commercial-payments", PaymentsHandler)
//!     .job("contract-expiry", every, expire)
//!     .bind()
//!     .await
//! ```

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use async_graphql::{ObjectType, Schema, SubscriptionType};
use axum::Router;
use futures::future::BoxFuture;
use sqlx::{migrate::Migrator, PgPool};
use tokio::{
    net::TcpListener,
    sync::{oneshot, watch},
    task::JoinHandle,
};

use crate::{
    auth::TokenVerifier,
    bus::Bus,
    consumer::{self, ConsumerSpec, Handler},
    events::{self, EventsSettings, Relay},
    graphql::Loaders,
    metrics, operations,
    server::{self, GraphqlEndpoint, HttpSettings, MembershipCheck},
    settings::{ServiceSettings, SubgraphSettings},
};

/// Work that runs beside the server until shutdown turns true.
type Task = Box<dyn FnOnce(watch::Receiver<bool>) -> BoxFuture<'static, ()> + Send>;

/// A subgraph being assembled: connected, not yet listening.
pub struct Subgraph {
    name: &'static str,
    bus: &'static Bus,
    http: HttpSettings,
    events: EventsSettings,
    verifier: TokenVerifier,
    pool: PgPool,
    nats: async_nats::Client,
    router: Router,
    tasks: Vec<Task>,
    memberships: Option<MembershipCheck>,
    /// The durable consumers declared, for `/metrics`.
    consumers: Vec<String>,
    /// Consumers run but missing from the bus declaration.
    undeclared: Vec<String>,
}

impl Subgraph {
    /// Connects to the database (created and migrated with `migrator`, unless `pool` is
    /// given: tests hand in a fresh, migrated one) and to NATS as `bus` declares the subgraph
    /// (without waiting for it: the client reconnects in the background, so writes are
    /// accepted while NATS is down).
    ///
    /// # Errors
    /// When the database is unreachable or its migrations fail, or the NATS settings are
    /// invalid.
    pub async fn connect<A>(
        bus: &'static Bus,
        settings: &ServiceSettings<A>,
        migrator: &'static Migrator,
        pool: Option<PgPool>,
        verifier: TokenVerifier,
    ) -> anyhow::Result<Self> {
        let pool = match pool {
            Some(pool) => pool,
            None => crate::db::connect_and_migrate(&settings.database, migrator).await?,
        };
        let nats = events::connect(&settings.events, bus.service).await?;
        Ok(Self {
            name: bus.service,
            bus,
            http: settings.http.clone(),
            events: settings.events.clone(),
            verifier,
            pool,
            nats,
            router: Router::new(),
            tasks: Vec::new(),
            memberships: None,
            consumers: Vec::new(),
            undeclared: Vec::new(),
        })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn nats(&self) -> &async_nats::Client {
        &self.nats
    }

    pub fn events(&self) -> &EventsSettings {
        &self.events
    }

    pub fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }

    /// Checks every token's membership against `check` (call before [`Self::graphql`]):
    /// a member removed or given another role since the token was issued is refused.
    #[must_use]
    pub fn memberships(mut self, check: MembershipCheck) -> Self {
        self.memberships = Some(check);
        self
    }

    /// Serves `schema` at `/graphql` (and `/ws`), giving each request with a tenant the
    /// DataLoaders of `loaders`; also `/health` and `/readiness`.
    #[must_use]
    pub fn graphql<Q, M, S>(mut self, schema: Schema<Q, M, S>, loaders: Loaders) -> Self
    where
        Q: ObjectType + 'static,
        M: ObjectType + 'static,
        S: SubscriptionType + 'static,
    {
        let endpoint = GraphqlEndpoint {
            schema,
            verifier: self.verifier.clone(),
            loaders: Arc::new(loaders),
            pool: self.pool.clone(),
            memberships: self.memberships,
        };
        self.router = self.router.merge(server::router(endpoint));
        self
    }

    /// Adds routes of the subgraph's own (downloads, webhooks…).
    #[must_use]
    pub fn routes(mut self, routes: Router) -> Self {
        self.router = self.router.merge(routes);
        self
    }

    /// Runs `handler` as the durable consumer `name` of its events.
    ///
    /// The subgraph's [`Bus`] must declare that consumer hearing those events (the bus's
    /// permissions, generated from the declaration, would refuse it): else [`Self::bind`]
    /// fails, in every test that starts the subgraph.
    #[must_use]
    pub fn consumer<H: Handler>(mut self, name: &str, handler: H) -> Self {
        let spec = ConsumerSpec::of::<H>(name).with_ack_wait(&self.events);
        if !self.bus.declares_consumer(name, &spec.event_types) {
            self.undeclared
                .push(format!("{name} hearing {:?}", spec.event_types));
        }
        self.consumers.push(spec.name.clone());
        let (pool, nats, events) = (self.pool.clone(), self.nats.clone(), self.events.clone());
        self.tasks.push(Box::new(move |stop| {
            Box::pin(consumer::run(pool, nats, events, spec, handler, stop))
        }));
        self
    }

    /// Runs `job` every `interval` (a zero interval turns it off); it returns how many things
    /// it did, logged when not zero.
    #[must_use]
    pub fn job<F, Fut>(mut self, name: &'static str, interval: Duration, job: F) -> Self
    where
        F: Fn(PgPool) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<usize>> + Send + 'static,
    {
        let pool = self.pool.clone();
        self.tasks.push(Box::new(move |stop| {
            Box::pin(run_job(name, interval, pool, job, stop))
        }));
        self
    }

    /// Runs a background task of the subgraph's own until shutdown.
    #[must_use]
    pub fn task<F, Fut>(mut self, task: F) -> Self
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tasks.push(Box::new(move |stop| Box::pin(task(stop))));
        self
    }

    /// Binds the listener (port 0 picks a free one) and adds the outbox relay and `/metrics`.
    ///
    /// # Errors
    /// When a consumer is not declared in the subgraph's [`Bus`], or the address cannot be
    /// bound.
    pub async fn bind(self) -> anyhow::Result<App> {
        anyhow::ensure!(
            self.undeclared.is_empty(),
            "the {} subgraph's BUS does not declare its consumer(s) {}",
            self.name,
            self.undeclared.join(", ")
        );
        let listener = self.http.bind().await?;
        let relay = Relay::new(self.pool.clone(), self.nats.clone(), self.events.clone());
        let mut tasks = self.tasks;
        tasks.insert(0, Box::new(move |stop| Box::pin(relay.run(stop))));
        let metrics = metrics::router(metrics::Sources {
            subgraph: self.name,
            pool: self.pool,
            nats: self.nats,
            stream: self.events.stream,
            consumers: self.consumers,
        });
        Ok(App {
            name: self.name,
            listener,
            router: self.http.limit(self.router.merge(metrics)),
            tasks,
        })
    }
}

async fn run_job<F, Fut>(
    name: &'static str,
    interval: Duration,
    pool: PgPool,
    job: F,
    mut shutdown: watch::Receiver<bool>,
) where
    F: Fn(PgPool) -> Fut,
    Fut: Future<Output = anyhow::Result<usize>>,
{
    if interval.is_zero() {
        return;
    }
    loop {
        match job(pool.clone()).await {
            Ok(0) => {}
            Ok(done) => tracing::info!(job = name, done, "job done"),
            Err(err) => tracing::warn!(job = name, error = %format!("{err:#}"), "job failed"),
        }
        tokio::select! {
            _ = shutdown.changed() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// A built, bound subgraph, not yet serving.
pub struct App {
    name: &'static str,
    listener: TcpListener,
    router: Router,
    tasks: Vec<Task>,
}

impl App {
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// # Errors
    /// When the socket has no address (it always has one once bound).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves, relays, consumes and runs the jobs until `shutdown` resolves; then stops the
    /// background work and waits for it.
    ///
    /// # Errors
    /// When serving fails.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop, stopped) = watch::channel(false);
        let tasks: Vec<_> = self
            .tasks
            .into_iter()
            .map(|task| tokio::spawn(task(stopped.clone())))
            .collect();
        let served = server::serve(self.listener, self.router, Box::pin(shutdown)).await;
        let _ = stop.send(true);
        for task in tasks {
            let _ = task.await;
        }
        served
    }

    /// Runs on this runtime until the handle stops or drops (tests, the development stack).
    ///
    /// # Errors
    /// When the socket has no address.
    pub fn spawn(self) -> std::io::Result<Running> {
        let address = self.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let name = self.name;
        let task = tokio::spawn(self.run_until(async move {
            let _ = rx.await;
        }));
        Ok(Running {
            name,
            base_url: format!("http://{address}"),
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A subgraph serving in this process; stopped when dropped.
pub struct Running {
    pub name: &'static str,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// The GraphQL endpoint.
    pub fn url(&self) -> String {
        format!("{}/graphql", self.base_url)
    }

    /// Stops serving and waits for in-flight requests and background work.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A subgraph binary's command line: no command serves; `events …` is for operators.
#[derive(clap::Parser)]
#[command(about = "A CRM subgraph: serves its GraphQL API, relays and consumes its events")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Dead letters and parked outbox rows of this subgraph's database.
    Events {
        #[command(subcommand)]
        command: operations::EventsCommand,
    },
}

/// A subgraph's `main`: telemetry, settings from the environment, then `build` and serve
/// until Ctrl-C or SIGTERM — or, given `events …`, that operator command on the database.
///
/// # Errors
/// When the settings are invalid, the build fails or serving fails.
pub async fn run_binary<S, F, Fut>(build: F) -> anyhow::Result<()>
where
    S: SubgraphSettings,
    F: FnOnce(S, Option<PgPool>) -> Fut,
    Fut: Future<Output = anyhow::Result<App>>,
{
    let cli = <Cli as clap::Parser>::parse();
    if let Some(Command::Events { command }) = cli.command {
        crate::telemetry::init("warn");
        let settings = S::load()?;
        let pool = crate::db::connect(settings.database()).await?;
        let report = operations::run(&pool, &command).await?;
        #[allow(clippy::print_stdout)] // the operator's answer
        {
            print!("{report}");
        }
        return Ok(());
    }
    crate::telemetry::init("info,sqlx=warn");
    let app = build(S::load()?, None).await?;
    tracing::info!(subgraph = S::NAME, address = %app.local_addr()?, "subgraph listening");
    app.run_until(server::shutdown_signal()).await?;
    Ok(())
}
