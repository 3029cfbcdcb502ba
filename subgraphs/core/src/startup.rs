//! Building the core subgraph: database, token issuer, schema and HTTP routes, bound to a
//! listener (port 0 picks a free port, which tests use).

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use axum::{routing::get, Json, Router};
use secrecy::SecretString;
use sqlx::PgPool;
use subgraph_kit::{
    auth::TokenPolicy,
    events::{self, Relay},
    server::{self, GraphqlEndpoint},
};
use tokio::{net::TcpListener, sync::watch};

use crate::{
    config::{AuthSettings, Settings},
    graphql::{attach_request_data, build_schema, CoreState},
    tokens::TokenIssuer,
};

/// A built, bound, not yet running core subgraph.
pub struct App {
    listener: TcpListener,
    router: Router,
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
        let issuer = Arc::new(token_issuer(&settings.auth)?);
        let state = CoreState {
            pool: pool.clone(),
            issuer: issuer.clone(),
            invitation_ttl: chrono::Duration::days(settings.auth.invitation_ttl_days),
        };
        let endpoint = GraphqlEndpoint {
            schema: build_schema(state),
            verifier: issuer.verifier()?,
            attach: attach_request_data(pool.clone()),
        };
        let jwks = issuer.jwks().clone();
        let router = server::router(endpoint, pool.clone()).route(
            "/.well-known/jwks.json",
            get(move || std::future::ready(Json(jwks.clone()))),
        );
        let nats = events::connect(&settings.events, "crm-core").await?;
        let relay = Relay::new(pool.clone(), nats, settings.events.clone());
        let listener = settings.http.bind().await?;
        Ok(Self {
            listener,
            router,
            relay,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves, and relays events, until `shutdown` resolves.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_relay, relay_stopped) = watch::channel(false);
        let relay = tokio::spawn(self.relay.run(relay_stopped));
        let served = server::serve(self.listener, self.router, Box::pin(shutdown)).await;
        let _ = stop_relay.send(true);
        let _ = relay.await;
        served
    }
}

fn token_issuer(auth: &AuthSettings) -> anyhow::Result<TokenIssuer> {
    let pem = match (&auth.signing_key_pem, &auth.signing_key_file) {
        (Some(pem), _) => pem.clone(),
        (None, Some(path)) => SecretString::from(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the signing key file {}", path.display()))?,
        ),
        (None, None) => anyhow::bail!(
            "no token signing key: set CORE__AUTH__SIGNING_KEY_FILE to a PKCS#8 Ed25519 PEM file \
             (`cargo xtask dev` generates one in .dev/)"
        ),
    };
    TokenIssuer::from_pem(
        &pem,
        TokenPolicy {
            issuer: auth.issuer.clone(),
            audience: auth.audience.clone(),
        },
        chrono::Duration::seconds(auth.token_ttl_seconds),
    )
}
