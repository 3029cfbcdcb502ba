//! Building the engagement subgraph: database, token verifier (core's JWKS), schema, HTTP
//! routes and event consumers, bound to a listener (port 0 picks a free port).

use std::{future::Future, net::SocketAddr, time::Duration};

use axum::Router;
use sqlx::PgPool;
use subgraph_kit::{
    auth::{TokenPolicy, TokenVerifier},
    consumer,
    events::EventsSettings,
    server::{self, GraphqlEndpoint},
};
use tokio::{net::TcpListener, sync::watch};

use crate::{
    config::Settings,
    events::{notifications_consumer, NotificationsHandler},
    graphql::{attach_request_data, build_schema, EngagementState},
};

/// A built, bound, not yet running engagement subgraph.
pub struct App {
    listener: TcpListener,
    router: Router,
    pool: PgPool,
    nats: async_nats::Client,
    events: EventsSettings,
    email: crate::config::EmailSettings,
    mailer: crate::mailer::Mailer,
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
        let nats = subgraph_kit::events::connect(&settings.events, "crm-engagement").await?;
        let endpoint = GraphqlEndpoint {
            schema: build_schema(EngagementState {
                pool: pool.clone(),
                nats: nats.clone(),
                events: settings.events.clone(),
            }),
            verifier,
            attach: attach_request_data(pool.clone()),
        };
        let router = server::router(endpoint, pool.clone());
        let listener = settings.http.bind().await?;
        let mailer = crate::mailer::Mailer::new(pool.clone(), settings.email.clone())?;
        Ok(Self {
            mailer,
            listener,
            router,
            pool,
            nats,
            events: settings.events,
            email: settings.email,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves, and consumes events, until `shutdown` resolves.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop, stopped) = watch::channel(false);
        let notifications = tokio::spawn(consumer::run(
            self.pool.clone(),
            self.nats.clone(),
            self.events.clone(),
            notifications_consumer().with_ack_wait(&self.events),
            NotificationsHandler {
                nats: self.nats.clone(),
                events: self.events.clone(),
                app_url: self.email.app_url.clone(),
            },
            stopped.clone(),
        ));
        let mailer = tokio::spawn(self.mailer.run(stopped));
        let served = server::serve(self.listener, self.router, Box::pin(shutdown)).await;
        let _ = stop.send(true);
        let _ = notifications.await;
        let _ = mailer.await;
        served
    }
}
