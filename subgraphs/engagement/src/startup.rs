//! What the engagement subgraph runs: its schema and loaders (with the live subscriptions),
//! the consumers of core's events (directory projection, notifications, e-mail) and of
//! logistics' (letters on the timeline) and the
//! mailer that sends queued e-mail.

use anyhow::Context;
use sqlx::PgPool;
use subgraph_kit::{
    directory::Directory,
    runtime::{App, Subgraph},
    sealed::{missing_key, OpeningKey},
    server::MembershipCheck,
    settings::read_pem,
};

use crate::{
    config::Settings,
    events::NotificationsHandler,
    graphql::{build_schema, loaders::loaders, EngagementState},
    mailer::Mailer,
    shipments::ShipmentsHandler,
};

/// Builds engagement over `pool` (tests hand in a fresh database) or its configured database.
///
/// # Errors
/// When the database or NATS is unreachable, or the SMTP settings or mail key are unusable.
pub async fn build(settings: Settings, pool: Option<PgPool>) -> anyhow::Result<App> {
    let verifier = settings.service.auth.verifier();
    let subgraph = Subgraph::connect(
        &crate::BUS,
        &settings.service,
        &crate::MIGRATOR,
        pool,
        verifier,
    )
    .await?;
    let (pool, nats) = (subgraph.pool().clone(), subgraph.nats().clone());
    let events = subgraph.events().clone();
    let directory = Directory::new(&settings.directory, ())?;
    let state = EngagementState {
        pool: pool.clone(),
        nats: nats.clone(),
        events: events.clone(),
        directory: directory.clone(),
    };
    let shipments = ShipmentsHandler {
        nats: nats.clone(),
        events: events.clone(),
    };
    let notifications = NotificationsHandler {
        nats,
        events,
        app_url: settings.email.app_url.clone(),
        directory: directory.handler(),
    };
    let key = read_pem(
        settings.email.opening_key_pem.as_ref(),
        settings.email.opening_key_file.as_deref(),
        &missing_key("ENGAGEMENT__EMAIL__OPENING_KEY_FILE"),
    )?;
    let key = OpeningKey::from_pem(&key).context("email.opening_key")?;
    let mailer = Mailer::new(pool, settings.email, key)?;
    subgraph
        .memberships(MembershipCheck::PROJECTED)
        .graphql(build_schema(state), loaders())
        .consumer("engagement-notifications", notifications)
        .consumer("engagement-shipments", shipments)
        .task(|stop| mailer.run(stop))
        .bind()
        .await
}
