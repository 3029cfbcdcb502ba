//! What the core subgraph runs: its schema and loaders, the token issuer whose JWKS every
//! other part verifies against, and the directory routes the other subgraphs read through.

use std::sync::Arc;

use anyhow::Context;
use axum::{routing::get, Json, Router};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use subgraph_kit::{
    auth::TokenPolicy,
    runtime::{App, Subgraph},
    sealed::{missing_key, SealingKey},
    settings::read_pem,
};

use crate::{
    config::{AuthSettings, Settings},
    graphql::{build_schema, loaders, CoreState},
    tokens::TokenIssuer,
};

/// Builds core over `pool` (tests hand in a fresh database) or its configured database.
///
/// # Errors
/// When the signing or mail key is missing or unusable, or the database or NATS is unreachable.
pub async fn build(settings: Settings, pool: Option<PgPool>) -> anyhow::Result<App> {
    let auth = &settings.service.auth;
    let issuer = Arc::new(token_issuer(auth)?);
    let mail = SealingKey::from_pem(
        read_pem(
            auth.mail_sealing_key_pem.as_ref(),
            auth.mail_sealing_key_file.as_deref(),
            &missing_key("CORE__AUTH__MAIL_SEALING_KEY_FILE"),
        )?
        .expose_secret(),
    )
    .context("auth.mail_sealing_key")?;
    let verifier = issuer.verifier()?;
    let subgraph = Subgraph::connect(
        &crate::BUS,
        &settings.service,
        &crate::MIGRATOR,
        pool,
        verifier.clone(),
    )
    .await?;
    let pool = subgraph.pool().clone();
    let state = CoreState {
        pool: pool.clone(),
        issuer: issuer.clone(),
        mail,
        invitation_ttl: chrono::Duration::days(auth.invitation_ttl_days),
        sessions: crate::ops::session::Lifetimes {
            refresh: chrono::Duration::days(auth.refresh_ttl_days),
            session: chrono::Duration::days(auth.session_max_days),
        },
    };
    let jwks = issuer.jwks().clone();
    let routes = Router::new()
        .route(
            "/.well-known/jwks.json",
            get(move || std::future::ready(Json(jwks.clone()))),
        )
        .merge(crate::directory::routes(pool, verifier));
    subgraph
        .memberships(crate::MEMBERSHIPS)
        .graphql(build_schema(state), loaders())
        .routes(routes)
        .job(
            "login-failures-purge",
            std::time::Duration::from_secs(3600),
            |pool| async move {
                let purged = crate::db::login_failures::purge(&pool).await?;
                Ok(usize::try_from(purged).unwrap_or(usize::MAX))
            },
        )
        .job(
            "refresh-tokens-purge",
            std::time::Duration::from_secs(3600),
            |pool| async move {
                let purged = crate::db::refresh_token::purge(&pool).await?;
                Ok(usize::try_from(purged).unwrap_or(usize::MAX))
            },
        )
        .job(
            "account-links-purge",
            std::time::Duration::from_secs(3600),
            |pool| async move {
                let sign_ups = crate::db::sign_up::purge(&pool).await?;
                let resets = crate::db::password_reset::purge(&pool).await?;
                Ok(usize::try_from(sign_ups + resets).unwrap_or(usize::MAX))
            },
        )
        .bind()
        .await
}

fn token_issuer(auth: &AuthSettings) -> anyhow::Result<TokenIssuer> {
    let pem = read_pem(
        auth.signing_key_pem.as_ref(),
        auth.signing_key_file.as_deref(),
        "no token signing key: set CORE__AUTH__SIGNING_KEY_FILE to a PKCS#8 Ed25519 PEM file \
         (`cargo xtask dev` generates one in .dev/)",
    )?;
    TokenIssuer::from_pem(
        &pem,
        TokenPolicy {
            issuer: auth.issuer.clone(),
            audience: auth.audience.clone(),
        },
        chrono::Duration::seconds(auth.token_ttl_seconds),
    )
}
