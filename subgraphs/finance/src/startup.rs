//! Building the finance subgraph: database, token verifier (core's JWKS), schema, HTTP
//! routes, the outbox relay and the event consumers, bound to a listener (port 0 picks a
//! free port).

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::Router;
use sqlx::PgPool;
use subgraph_kit::{
    auth::{TokenPolicy, TokenVerifier},
    consumer,
    events::{EventsSettings, Relay},
    server::{self, GraphqlEndpoint},
};
use tokio::{net::TcpListener, sync::watch};

use crate::{
    config::Settings,
    events::{contracts_consumer, directory_consumer, ContractsHandler, DirectoryHandler},
    graphql::{attach_request_data, build_schema, FinanceState},
};

/// A built, bound, not yet running finance subgraph.
pub struct App {
    listener: TcpListener,
    router: Router,
    pool: PgPool,
    nats: async_nats::Client,
    events: EventsSettings,
    relay: Relay,
}

impl App {
    /// Connects to (and creates, migrates) the database, then builds the app.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let pool =
            subgraph_kit::db::connect_and_migrate(&settings.database, &crate::MIGRATOR).await?;
        Self::with_pool(settings, pool).await
    }

    /// Builds the app over an existing, migrated pool (tests hand in a fresh database).
    pub async fn with_pool(settings: Settings, pool: PgPool) -> anyhow::Result<Self> {
        let verifier = TokenVerifier::remote(
            TokenPolicy {
                issuer: settings.auth.issuer.clone(),
                audience: settings.auth.audience.clone(),
            },
            settings.auth.jwks_url.clone(),
            Duration::from_secs(30),
        );
        let nats = subgraph_kit::events::connect(&settings.events, "crm-finance").await?;
        let store = std::sync::Arc::new(crate::storage::LocalStore::new(
            settings.documents.dir.clone(),
        ));
        let endpoint = GraphqlEndpoint {
            schema: build_schema(FinanceState {
                pool: pool.clone(),
                store: store.clone(),
                public_url: settings.documents.public_url.clone(),
            }),
            verifier: verifier.clone(),
            attach: attach_request_data(pool.clone()),
        };
        let router = server::router(endpoint, pool.clone()).merge(crate::documents::routes(
            pool.clone(),
            verifier,
            store,
        ));
        let listener = settings.http.bind().await?;
        let relay = Relay::new(pool.clone(), nats.clone(), settings.events.clone());
        Ok(Self {
            listener,
            router,
            pool,
            nats,
            events: settings.events,
            relay,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves, relays and consumes until `shutdown` resolves.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop, stopped) = watch::channel(false);
        let tasks = vec![
            tokio::spawn(self.relay.run(stopped.clone())),
            tokio::spawn(consumer::run(
                self.pool.clone(),
                self.nats.clone(),
                self.events.clone(),
                directory_consumer().with_ack_wait(&self.events),
                DirectoryHandler,
                stopped.clone(),
            )),
            tokio::spawn(consumer::run(
                self.pool.clone(),
                self.nats.clone(),
                self.events.clone(),
                contracts_consumer().with_ack_wait(&self.events),
                ContractsHandler,
                stopped,
            )),
        ];
        let served = server::serve(self.listener, self.router, Box::pin(shutdown)).await;
        let _ = stop.send(true);
        for task in tasks {
            let _ = task.await;
        }
        served
    }
}
