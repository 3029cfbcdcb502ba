//! Carrier accounts: a société's Maileva account, its credentials encrypted at rest.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::status::ShipmentKind;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub organisation_id: Uuid,
    pub id: Uuid,
    pub societe_id: Uuid,
    pub label: String,
    pub sandbox: bool,
    /// `vault.v1.…`: the client secret and the password, encrypted for this account.
    pub credentials: String,
    pub client_id: String,
    pub username: String,
    pub notification_email: String,
    pub sender_line1: String,
    pub sender_line2: Option<String>,
    pub sender_line3: Option<String>,
    pub sender_line4: Option<String>,
    pub sender_line5: Option<String>,
    pub sender_line6: String,
    pub sender_country: String,
    pub invoices_by_post: bool,
    pub invoice_letter_kind: ShipmentKind,
    pub webhook_password_sha256: String,
    /// The letter each signed contract of the société gets, if any.
    pub welcome_letter_document_id: Option<Uuid>,
    pub webhooks_registered_at: Option<DateTime<Utc>>,
    pub webhooks_error: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AccountRow {
    pub fn sender_lines(&self) -> Vec<String> {
        vec![
            self.sender_line1.clone(),
            self.sender_line2.clone().unwrap_or_default(),
            self.sender_line3.clone().unwrap_or_default(),
            self.sender_line4.clone().unwrap_or_default(),
            self.sender_line5.clone().unwrap_or_default(),
            self.sender_line6.clone(),
        ]
    }
}

const COLUMNS: &str =
    "organisation_id, id, societe_id, label, sandbox, credentials, client_id, username,
    notification_email, sender_line1, sender_line2, sender_line3, sender_line4, sender_line5,
    sender_line6, sender_country, invoices_by_post, invoice_letter_kind, webhook_password_sha256,
    welcome_letter_document_id, webhooks_registered_at, webhooks_error, active, created_at, updated_at";

/// The constraint tying a welcome letter to a document of the organisation.
pub const WELCOME_DOCUMENT: &str = "carrier_accounts_welcome_document_fkey";

/// The constraint refusing a second active account for a société.
pub const ONE_ACTIVE_PER_SOCIETE: &str = "carrier_accounts_one_active_per_societe";

pub async fn insert(db: impl PgExecutor<'_>, a: &AccountRow) -> sqlx::Result<()> {
    sqlx::query(
        "insert into carrier_accounts (organisation_id, id, societe_id, label, sandbox, credentials,
             client_id, username, notification_email, sender_line1, sender_line2, sender_line3,
             sender_line4, sender_line5, sender_line6, sender_country, invoices_by_post,
             invoice_letter_kind, webhook_password_sha256, welcome_letter_document_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
                 $20)",
    )
    .bind(a.organisation_id)
    .bind(a.id)
    .bind(a.societe_id)
    .bind(&a.label)
    .bind(a.sandbox)
    .bind(&a.credentials)
    .bind(&a.client_id)
    .bind(&a.username)
    .bind(&a.notification_email)
    .bind(&a.sender_line1)
    .bind(&a.sender_line2)
    .bind(&a.sender_line3)
    .bind(&a.sender_line4)
    .bind(&a.sender_line5)
    .bind(&a.sender_line6)
    .bind(&a.sender_country)
    .bind(a.invoices_by_post)
    .bind(a.invoice_letter_kind)
    .bind(&a.webhook_password_sha256)
    .bind(a.welcome_letter_document_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Writes every editable field of `a` (credentials, sender, settings, activity).
pub async fn update(db: impl PgExecutor<'_>, a: &AccountRow) -> sqlx::Result<()> {
    sqlx::query(
        "update carrier_accounts set label = $3, sandbox = $4, credentials = $5, client_id = $6,
             username = $7, notification_email = $8, sender_line1 = $9, sender_line2 = $10,
             sender_line3 = $11, sender_line4 = $12, sender_line5 = $13, sender_line6 = $14,
             sender_country = $15, invoices_by_post = $16, invoice_letter_kind = $17, active = $18,
             webhook_password_sha256 = $19, welcome_letter_document_id = $20, updated_at = now()
         where organisation_id = $1 and id = $2",
    )
    .bind(a.organisation_id)
    .bind(a.id)
    .bind(&a.label)
    .bind(a.sandbox)
    .bind(&a.credentials)
    .bind(&a.client_id)
    .bind(&a.username)
    .bind(&a.notification_email)
    .bind(&a.sender_line1)
    .bind(&a.sender_line2)
    .bind(&a.sender_line3)
    .bind(&a.sender_line4)
    .bind(&a.sender_line5)
    .bind(&a.sender_line6)
    .bind(&a.sender_country)
    .bind(a.invoices_by_post)
    .bind(a.invoice_letter_kind)
    .bind(a.active)
    .bind(&a.webhook_password_sha256)
    .bind(a.welcome_letter_document_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Records whether Maileva accepted the account's notification subscriptions.
pub async fn set_webhooks(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update carrier_accounts
         set webhooks_registered_at = case when $3::text is null then now() end, webhooks_error = $3
         where organisation_id = $1 and id = $2",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(error)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn find(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<AccountRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from carrier_accounts where organisation_id = $1 and id = $2"
    ))
    .bind(organisation_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The account a webhook names (its credentials say whose it is).
pub async fn find_for_webhook(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> sqlx::Result<Option<AccountRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from carrier_accounts where id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn active_for_societe(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    societe_id: Uuid,
) -> sqlx::Result<Option<AccountRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from carrier_accounts
         where organisation_id = $1 and societe_id = $2 and active"
    ))
    .bind(organisation_id)
    .bind(societe_id)
    .fetch_optional(db)
    .await
}

pub async fn list(db: impl PgExecutor<'_>, organisation_id: Uuid) -> sqlx::Result<Vec<AccountRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from carrier_accounts where organisation_id = $1
         order by active desc, created_at, id"
    ))
    .bind(organisation_id)
    .fetch_all(db)
    .await
}

pub async fn by_ids(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<Vec<AccountRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from carrier_accounts where organisation_id = $1 and id = any($2)"
    ))
    .bind(organisation_id)
    .bind(ids)
    .fetch_all(db)
    .await
}

/// Maileva accepted the notification subscriptions made with the password of `digest`.
pub async fn webhooks_registered(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
    digest: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update carrier_accounts
         set webhook_password_sha256 = $3, webhooks_registered_at = now(), webhooks_error = null
         where organisation_id = $1 and id = $2",
    )
    .bind(organisation_id)
    .bind(id)
    .bind(digest)
    .execute(db)
    .await?;
    Ok(())
}
