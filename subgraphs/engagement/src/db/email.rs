//! The e-mail outbox.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmailRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub template: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub source_event_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// The secret the body's [`SECRET_PLACEHOLDER`] stands for, sealed; erased once the
    /// message is sent or given up.
    pub sealed_secret: Option<String>,
}

pub struct NewEmail<'a> {
    pub organisation_id: Uuid,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub template: &'a str,
    pub source_event_id: Option<Uuid>,
    /// A secret sealed for the mailer, put where the body says [`SECRET_PLACEHOLDER`].
    pub sealed_secret: Option<&'a str>,
}

/// Where a message's secret goes in its body; only the mailer, sending, puts it there.
pub const SECRET_PLACEHOLDER: &str = "{{secret}}";

/// The channel the mailer listens on; notified at commit.
pub const CHANNEL: &str = "emails";

/// Queues a message in the caller's transaction (once per event and template).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn queue_email(tx: &mut sqlx::PgConnection, e: NewEmail<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into emails (id, organisation_id, recipient, subject, body_text, template, source_event_id, sealed_secret)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (source_event_id, template) where source_event_id is not null do nothing",
    )
    .bind(Uuid::now_v7())
    .bind(e.organisation_id)
    .bind(e.recipient)
    .bind(e.subject)
    .bind(e.body_text)
    .bind(e.template)
    .bind(e.source_event_id)
    .bind(e.sealed_secret)
    .execute(&mut *tx)
    .await?;
    sqlx::query("select pg_notify($1, '')")
        .bind(CHANNEL)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Due messages, locked for this mailer.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_due(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<EmailRow>> {
    sqlx::query_as(
        "select * from emails where status = 'PENDING' and next_attempt_at <= now()
         order by next_attempt_at, id limit $1 for update skip locked",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_sent(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update emails set status = 'SENT', sent_at = now(), attempts = attempts + 1, last_error = null,
                sealed_secret = null
         where id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Records a failed attempt: retried after `retry_in_seconds`, or FAILED when `give_up`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn mark_failed(
    db: impl PgExecutor<'_>,
    id: Uuid,
    error: &str,
    give_up: bool,
    retry_in_seconds: f64,
) -> sqlx::Result<()> {
    sqlx::query(
        "update emails set attempts = attempts + 1, last_error = $2,
                status = case when $3 then 'FAILED' else 'PENDING' end,
                sealed_secret = case when $3 then null else sealed_secret end,
                next_attempt_at = now() + make_interval(secs => $4)
         where id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(give_up)
    .bind(retry_in_seconds)
    .execute(db)
    .await?;
    Ok(())
}

/// The templates of a person's account e-mails (sign-up confirmation, "you already have an
/// account", password reset): that person's business, not their organisation's, so never
/// listed to its admins.
pub const ACCOUNT_TEMPLATES: &[&str] =
    &["sign_up_confirmation", "existing_account", "password_reset"];

/// The organisation's messages, newest first, optionally in one status; account e-mails
/// ([`ACCOUNT_TEMPLATES`]) aside.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn list_emails(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    status: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<EmailRow>> {
    sqlx::query_as(
        "select * from emails where organisation_id = $1 and ($2::text is null or status = $2)
           and template <> all($4)
         order by created_at desc, id desc limit $3",
    )
    .bind(organisation_id)
    .bind(status)
    .bind(limit)
    .bind(ACCOUNT_TEMPLATES)
    .fetch_all(db)
    .await
}
