//! Carrier accounts: a société's Maileva account created or changed (its credentials sealed
//! for the account, its sender address checked against the postal rules), and its
//! notification subscriptions registered with the carrier — with a fresh random password,
//! of which only a SHA-256 is kept, stored once the carrier accepted it.

use chrono::Utc;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use subgraph_kit::{
    error::{is_constraint_violation, Error, Invalid, Result},
    text::check_email,
    vault::VaultKey,
};
use uuid::Uuid;

use crate::{
    carrier::PostalCarrier,
    db::{self, account::AccountRow},
    domain::{
        address::{check, AddressInput},
        status::ShipmentKind,
    },
    ops::credentials,
    webhooks::password_digest,
};

/// An account's fields as given (`None`: unchanged, on an update).
#[derive(Debug, Default)]
pub struct AccountChanges {
    pub label: Option<String>,
    pub sandbox: Option<bool>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub notification_email: Option<String>,
    pub sender: Option<AddressInput>,
    pub invoices_by_post: Option<bool>,
    pub invoice_letter_kind: Option<ShipmentKind>,
    /// The letter each signed contract gets (`Some(None)`: none any more); a document of the
    /// organisation's (checked by the database).
    pub welcome_letter_document_id: Option<Option<Uuid>>,
}

fn required(field: &str, value: Option<String>) -> Result<String> {
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Invalid::new(field, "is required").into()),
    }
}

/// Applies `sender` to `row`'s sender lines (checked as a simple letter's address).
fn set_sender(row: &mut AccountRow, sender: &AddressInput) -> Result<()> {
    let address = check(sender, ShipmentKind::SimpleLetter).map_err(|found| Error::Problems {
        summary: "the sender address breaks the postal rules".into(),
        problems: found
            .into_iter()
            .map(|p| Invalid::new(format!("sender.{}", p.field), p.message))
            .collect(),
    })?;
    let line = |i: usize| address.lines[i].clone();
    row.sender_line1 = line(0)
        .or_else(|| line(1))
        .ok_or_else(|| Invalid::new("sender.lines[0]", "names the sender"))?;
    row.sender_line2 = line(1).filter(|_| address.lines[0].is_some());
    row.sender_line3 = line(2);
    row.sender_line4 = line(3);
    row.sender_line5 = line(4);
    row.sender_line6 = line(5).unwrap_or_default();
    row.sender_country = address.country;
    Ok(())
}

fn one_active(err: sqlx::Error) -> Error {
    if is_constraint_violation(&err, db::account::ONE_ACTIVE_PER_SOCIETE) {
        Error::conflict("the société already has an active carrier account")
    } else if is_constraint_violation(&err, db::account::WELCOME_DOCUMENT) {
        Error::not_found("document")
    } else {
        err.into()
    }
}

/// Creates the account of `societe_id` (already checked to be the organisation's).
///
/// # Errors
/// `VALIDATION` for a missing or malformed field, `CONFLICT` when the société has an active
/// account.
pub async fn create(
    pool: &PgPool,
    vault: &VaultKey,
    organisation_id: Uuid,
    societe_id: Uuid,
    c: AccountChanges,
) -> Result<AccountRow> {
    let id = Uuid::now_v7();
    let label = required("label", c.label)?;
    let client_id = required("clientId", c.client_id)?;
    let username = required("username", c.username)?;
    let notification_email = required("notificationEmail", c.notification_email)?;
    check_email("notificationEmail", &notification_email)?;
    let (Some(secret), Some(password)) = (c.client_secret, c.password) else {
        return Err(Invalid::new(
            "clientSecret",
            "the client secret and the password are required",
        )
        .into());
    };
    let sender = c
        .sender
        .ok_or_else(|| Invalid::new("sender", "is required"))?;
    let sealed = credentials::seal(vault, id, &secret, &password).map_err(Error::Internal)?;
    let now = Utc::now();
    let mut row = AccountRow {
        organisation_id,
        id,
        societe_id,
        label,
        sandbox: c.sandbox.unwrap_or(false),
        credentials: sealed,
        client_id,
        username,
        notification_email,
        sender_line1: String::new(),
        sender_line2: None,
        sender_line3: None,
        sender_line4: None,
        sender_line5: None,
        sender_line6: String::new(),
        sender_country: String::new(),
        invoices_by_post: c.invoices_by_post.unwrap_or(false),
        invoice_letter_kind: c.invoice_letter_kind.unwrap_or(ShipmentKind::SimpleLetter),
        // No notification is accepted before the carrier took our password.
        webhook_password_sha256: password_digest(&random_password()),
        welcome_letter_document_id: c.welcome_letter_document_id.flatten(),
        webhooks_registered_at: None,
        webhooks_error: None,
        active: true,
        created_at: now,
        updated_at: now,
    };
    set_sender(&mut row, &sender)?;
    db::account::insert(pool, &row).await.map_err(one_active)?;
    Ok(row)
}

/// Changes `row` as `c` says (credentials re-sealed when one of them changes).
///
/// # Errors
/// As [`create`]; `INTERNAL` when the stored credentials do not open.
pub async fn update(
    pool: &PgPool,
    vault: &VaultKey,
    mut row: AccountRow,
    c: AccountChanges,
) -> Result<AccountRow> {
    if let Some(label) = c.label {
        row.label = required("label", Some(label))?;
    }
    if let Some(client_id) = c.client_id {
        row.client_id = required("clientId", Some(client_id))?;
    }
    if let Some(username) = c.username {
        row.username = required("username", Some(username))?;
    }
    if let Some(email) = c.notification_email {
        row.notification_email = required("notificationEmail", Some(email))?;
        check_email("notificationEmail", &row.notification_email)?;
    }
    if let Some(sandbox) = c.sandbox {
        row.sandbox = sandbox;
    }
    if let Some(by_post) = c.invoices_by_post {
        row.invoices_by_post = by_post;
    }
    if let Some(kind) = c.invoice_letter_kind {
        row.invoice_letter_kind = kind;
    }
    if let Some(welcome) = c.welcome_letter_document_id {
        row.welcome_letter_document_id = welcome;
    }
    if let Some(sender) = &c.sender {
        set_sender(&mut row, sender)?;
    }
    if c.client_secret.is_some() || c.password.is_some() {
        let current = credentials::open(vault, &row).map_err(Error::Internal)?;
        let secret = c.client_secret.unwrap_or(current.client_secret);
        let password = c.password.unwrap_or(current.password);
        row.credentials =
            credentials::seal(vault, row.id, &secret, &password).map_err(Error::Internal)?;
    }
    db::account::update(pool, &row).await.map_err(one_active)?;
    Ok(row)
}

fn random_password() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    subgraph_kit::digest::hex(&bytes)
}

/// Where the carrier sends an account's notifications.
pub fn callback_url(public_url: &str, account_id: Uuid) -> String {
    format!(
        "{}/webhooks/maileva/{account_id}",
        public_url.trim_end_matches('/')
    )
}

/// Subscribes the account to the carrier's notifications with a fresh password; records
/// whether the carrier accepted (the error kept on the account otherwise: an admin retries).
///
/// # Errors
/// The database's error (the carrier's refusal is recorded, not returned).
pub async fn register_webhooks<C: PostalCarrier>(
    pool: &PgPool,
    carrier: &C,
    vault: &VaultKey,
    public_url: &str,
    account: &AccountRow,
) -> Result<()> {
    let credentials = credentials::open(vault, account).map_err(Error::Internal)?;
    let password = SecretString::from(random_password());
    let login = account.id.to_string();
    let url = callback_url(public_url, account.id);
    match carrier
        .subscribe(&credentials, &url, &login, &password)
        .await
    {
        Ok(()) => {
            let digest = password_digest(password.expose_secret());
            db::account::webhooks_registered(pool, account.organisation_id, account.id, &digest)
                .await?;
        }
        Err(err) => {
            tracing::warn!(account = %account.id, error = %err, "Maileva refused the notification subscriptions");
            db::account::set_webhooks(
                pool,
                account.organisation_id,
                account.id,
                Some(&err.to_string()),
            )
            .await?;
        }
    }
    Ok(())
}
