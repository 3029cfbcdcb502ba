//! What the mailer e-mails a person: the secrets core's events carry sealed (a sign-up's
//! confirmation link, a password reset link, an invitation), read from core's outbox and opened
//! with the mailer's key exactly as engagement does before sending. For tests and the
//! development tools, which act as the person reading their e-mail.

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::PgPool;
use subgraph_kit::sealed::OpeningKey;

/// The sign-up confirmation e-mail's event.
pub const SIGN_UP: &str = "sign_up.requested";
/// The password reset e-mail's event.
pub const PASSWORD_RESET: &str = "password_reset.requested";
/// The invitation e-mail's event.
pub const INVITATION: &str = "member.invited";

/// The secret of the newest `event_type` e-mail core asked for `email`, opened with `key`.
///
/// # Errors
/// When core recorded no such event, or it does not open with `key`.
pub async fn mailed_secret(
    core: &PgPool,
    key: &OpeningKey,
    event_type: &str,
    email: &str,
) -> anyhow::Result<String> {
    let sealed: Option<String> = sqlx::query_scalar(
        "select envelope -> 'payload' ->> 'sealed_token' from outbox
          where event_type = $1 and envelope -> 'payload' ->> 'email' = $2
          order by created_at desc, id desc limit 1",
    )
    .bind(event_type)
    .bind(email.trim().to_lowercase())
    .fetch_optional(core)
    .await
    .context("reading core's outbox")?
    .flatten();
    let sealed =
        sealed.with_context(|| format!("core asked for no {event_type} e-mail to {email}"))?;
    let opened = key
        .open(&sealed)
        .map_err(|err| anyhow::anyhow!("the {event_type} secret does not open: {err}"))?;
    Ok(opened.expose_secret().to_owned())
}

/// Where a person's e-mail can be read: core's database and the mailer's key.
#[derive(Clone, Copy)]
pub struct Mailbox<'a> {
    pub core: &'a PgPool,
    pub key: &'a OpeningKey,
}

impl Mailbox<'_> {
    /// See [`mailed_secret`].
    ///
    /// # Errors
    /// When core recorded no such event, or it does not open with the key.
    pub async fn secret(&self, event_type: &str, email: &str) -> anyhow::Result<String> {
        mailed_secret(self.core, self.key, event_type, email).await
    }
}
