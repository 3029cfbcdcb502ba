//! The mailer: sends queued e-mail over SMTP, retries failures with growing delays, and keeps
//! each message's status. Messages are queued in the transaction of what causes them, so a
//! rolled-back change sends nothing; several mailers share the queue (`skip locked`). A mailer
//! that dies after the relay accepted a message but before marking it sends it again: delivery
//! is at least once. A secret a message carries (an invitation link's token) is stored sealed
//! and opened only here, to send; the row keeps the body with a placeholder, and the sealed
//! secret is erased once the message is sent or given up.

use std::time::Duration;

use anyhow::Context;
use lettre::{
    message::{header::ContentType, Mailbox},
    transport::smtp::authentication::Credentials,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use secrecy::ExposeSecret;
use sqlx::{postgres::PgListener, PgPool};
use subgraph_kit::sealed::OpeningKey;
use tokio::sync::watch;

use crate::{
    config::{EmailSettings, SmtpTls},
    db::{self, email::EmailRow},
};

pub struct Mailer {
    pool: PgPool,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    settings: EmailSettings,
    /// Opens the secrets messages carry sealed.
    key: OpeningKey,
}

impl Mailer {
    pub fn new(pool: PgPool, settings: EmailSettings, key: OpeningKey) -> anyhow::Result<Self> {
        let host = settings.smtp_host.as_str();
        let mut builder = match settings.smtp_tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
        }
        .port(settings.smtp_port)
        .timeout(Some(Duration::from_secs(15)));
        if let (Some(user), Some(password)) = (&settings.smtp_username, &settings.smtp_password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        let from = settings
            .from
            .parse()
            .context("email.from is not a mailbox")?;
        Ok(Self {
            pool,
            transport: builder.build(),
            from,
            settings,
            key,
        })
    }

    /// Sends due messages until `shutdown`; wakes when a message is queued, else every 5 s.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut listener = None;
        while !*shutdown.borrow() {
            if listener.is_none() {
                listener = match PgListener::connect_with(&self.pool).await {
                    Ok(mut l) => l.listen(db::email::CHANNEL).await.ok().map(|()| l),
                    Err(_) => None,
                };
            }
            if let Err(err) = self.send_due().await {
                tracing::warn!(error = %format!("{err:#}"), "the mailer cannot reach its database");
            }
            tokio::select! {
                _ = shutdown.changed() => {}
                () = tokio::time::sleep(Duration::from_secs(5)) => {}
                received = async {
                    match listener.as_mut() {
                        Some(l) => l.recv().await.map(drop),
                        None => std::future::pending().await,
                    }
                } => {
                    if received.is_err() {
                        listener = None;
                    }
                }
            }
        }
    }

    /// Sends every message due now; returns how many were sent.
    pub async fn send_due(&self) -> anyhow::Result<usize> {
        let mut sent = 0;
        loop {
            let mut tx = self.pool.begin().await?;
            let due = db::email::lock_due(&mut *tx, 20).await?;
            if due.is_empty() {
                tx.commit().await?;
                return Ok(sent);
            }
            for email in &due {
                match self.send(email).await {
                    Ok(()) => {
                        db::email::mark_sent(&mut *tx, email.id).await?;
                        sent += 1;
                    }
                    Err((error, permanent)) => {
                        let attempts = email.attempts + 1;
                        let give_up = permanent || attempts >= self.settings.max_attempts;
                        let exponent = u32::try_from(attempts.clamp(1, 12) - 1).unwrap_or(0);
                        let delay = (self.settings.retry_delay_seconds as f64
                            * f64::from(2u32.pow(exponent)))
                        .min(3600.0);
                        tracing::warn!(email = %email.id, attempts, give_up, %error, "e-mail not delivered");
                        db::email::mark_failed(&mut *tx, email.id, &error, give_up, delay).await?;
                    }
                }
            }
            tx.commit().await?;
        }
    }

    /// Sends one message; on failure, the reason and whether retrying is pointless.
    async fn send(&self, email: &EmailRow) -> Result<(), (String, bool)> {
        let to: Mailbox = email
            .recipient
            .parse()
            .map_err(|e| (format!("invalid recipient: {e}"), true))?;
        let body = match &email.sealed_secret {
            None => email.body_text.clone(),
            Some(sealed) => {
                let secret = self
                    .key
                    .open(sealed)
                    .map_err(|e| (format!("cannot open the message's secret: {e}"), true))?;
                email
                    .body_text
                    .replace(db::email::SECRET_PLACEHOLDER, secret.expose_secret())
            }
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            // UTF-8 said outright: without it, readers assume US-ASCII and garble accents.
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| (format!("cannot build the message: {e}"), true))?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| (e.to_string(), e.is_permanent()))
    }
}
