//! Carrier accounts (admins): a société's Maileva account — never its secrets —, created,
//! changed, deactivated, its notification subscriptions registered with Maileva.

use async_graphql::{Context, InputObject, MaybeUndefined, Object, ID};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use subgraph_kit::{error::Invalid, Role};

use super::{entities::Societe, shipment::ShipmentAddressInput};
use crate::{
    db::{self, account::AccountRow},
    domain::{address::AddressInput, status::ShipmentKind},
    error::{Error, Result},
    graphql::parse_opt_id,
    graphql::{loaders, parse_id, parts, LogisticsState},
    ops::account::{self, AccountChanges},
};

/// A société's account with the postal carrier. Its client secret and password are
/// encrypted at rest and never returned.
pub struct CarrierAccount(pub AccountRow);

#[Object]
impl CarrierAccount {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn societe(&self) -> Societe {
        Societe {
            id: ID(self.0.societe_id.to_string()),
        }
    }
    async fn label(&self) -> &str {
        &self.0.label
    }
    /// Maileva's sandbox (nothing is printed) rather than production.
    async fn sandbox(&self) -> bool {
        self.0.sandbox
    }
    /// The OAuth2 client's id (not a secret).
    async fn client_id(&self) -> &str {
        &self.0.client_id
    }
    async fn username(&self) -> &str {
        &self.0.username
    }
    /// Where Maileva e-mails its own notices.
    async fn notification_email(&self) -> &str {
        &self.0.notification_email
    }
    /// The sender address printed on every letter.
    async fn sender_address(&self) -> Vec<String> {
        self.0
            .sender_lines()
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect()
    }
    async fn sender_country(&self) -> &str {
        &self.0.sender_country
    }
    /// The société's default: its invoices go by post (a client's own setting wins).
    async fn invoices_by_post(&self) -> bool {
        self.0.invoices_by_post
    }
    /// How invoices are posted.
    async fn invoice_letter_kind(&self) -> ShipmentKind {
        self.0.invoice_letter_kind
    }
    /// The document each signed contract gets by post, if any.
    async fn welcome_letter_document_id(&self) -> Option<ID> {
        self.0
            .welcome_letter_document_id
            .map(|id| ID(id.to_string()))
    }
    /// When Maileva accepted our notification subscriptions (null: not yet, see
    /// `webhooksError`; tracking then relies on polling).
    async fn webhooks_registered_at(&self) -> Option<DateTime<Utc>> {
        self.0.webhooks_registered_at
    }
    async fn webhooks_error(&self) -> Option<&str> {
        self.0.webhooks_error.as_deref()
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(InputObject)]
pub struct CreateCarrierAccountInput {
    pub societe_id: ID,
    pub label: String,
    #[graphql(default)]
    pub sandbox: bool,
    pub client_id: String,
    #[graphql(secret)]
    pub client_secret: String,
    pub username: String,
    #[graphql(secret)]
    pub password: String,
    pub notification_email: String,
    pub sender: ShipmentAddressInput,
    #[graphql(default)]
    pub invoices_by_post: bool,
    #[graphql(default_with = "ShipmentKind::SimpleLetter")]
    pub invoice_letter_kind: ShipmentKind,
    /// An uploaded document (`POST /documents`) each contract the société signs gets by post.
    pub welcome_letter_document_id: Option<ID>,
}

/// The fields to change (the others stay).
#[derive(InputObject, Default)]
pub struct UpdateCarrierAccountInput {
    pub label: Option<String>,
    pub sandbox: Option<bool>,
    pub client_id: Option<String>,
    #[graphql(secret)]
    pub client_secret: Option<String>,
    pub username: Option<String>,
    #[graphql(secret)]
    pub password: Option<String>,
    pub notification_email: Option<String>,
    pub sender: Option<ShipmentAddressInput>,
    pub invoices_by_post: Option<bool>,
    pub invoice_letter_kind: Option<ShipmentKind>,
    /// The welcome letter's document; null: no welcome letter any more.
    pub welcome_letter_document_id: MaybeUndefined<ID>,
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The organisation's carrier accounts (admins).
    async fn carrier_accounts(&self, ctx: &Context<'_>) -> Result<Vec<CarrierAccount>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let rows = db::account::list(&state.pool, tenant.organisation_id).await?;
        Ok(rows.into_iter().map(CarrierAccount).collect())
    }

    async fn carrier_account(&self, ctx: &Context<'_>, id: ID) -> Result<CarrierAccount> {
        let (_, request) = parts(ctx);
        request.tenant_with_role(Role::Admin)?;
        let id = parse_id("id", &id)?;
        loaders::account(ctx, id)
            .await?
            .map(CarrierAccount)
            .ok_or(Error::not_found("carrier account"))
    }
}

/// The organisation's account `id`, or `NOT_FOUND`.
async fn own_account(
    state: &LogisticsState,
    organisation_id: uuid::Uuid,
    id: uuid::Uuid,
) -> Result<AccountRow> {
    db::account::find(&state.pool, organisation_id, id)
        .await?
        .ok_or(Error::not_found("carrier account"))
}

/// Registers the account's notifications, then reads it back.
async fn registered(state: &LogisticsState, row: AccountRow) -> Result<CarrierAccount> {
    account::register_webhooks(
        &state.pool,
        &*state.carrier,
        &state.vault,
        &state.public_url,
        &row,
    )
    .await?;
    let row = own_account(state, row.organisation_id, row.id).await?;
    Ok(CarrierAccount(row))
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Connects a société to Maileva (admins): one active account per société. Maileva's
    /// notifications are subscribed to at once (`webhooksError` says why not).
    async fn create_carrier_account(
        &self,
        ctx: &Context<'_>,
        input: CreateCarrierAccountInput,
    ) -> Result<CarrierAccount> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let societe_id = parse_id("societeId", &input.societe_id)?;
        let mut conn = state.pool.acquire().await?;
        if !state
            .directory
            .has_societe(&mut conn, request, tenant.organisation_id, societe_id)
            .await?
        {
            return Err(Error::not_found("société"));
        }
        drop(conn);
        let secret = |field: &str, value: String| -> Result<SecretString> {
            if value.trim().is_empty() {
                return Err(Invalid::new(field, "is required").into());
            }
            Ok(SecretString::from(value))
        };
        let changes = AccountChanges {
            label: Some(input.label),
            sandbox: Some(input.sandbox),
            client_id: Some(input.client_id),
            client_secret: Some(secret("clientSecret", input.client_secret)?),
            username: Some(input.username),
            password: Some(secret("password", input.password)?),
            notification_email: Some(input.notification_email),
            sender: Some(AddressInput::from(input.sender)),
            invoices_by_post: Some(input.invoices_by_post),
            invoice_letter_kind: Some(input.invoice_letter_kind),
            welcome_letter_document_id: Some(parse_opt_id(
                "welcomeLetterDocumentId",
                input.welcome_letter_document_id.as_ref(),
            )?),
        };
        let row = account::create(
            &state.pool,
            &state.vault,
            tenant.organisation_id,
            societe_id,
            changes,
        )
        .await?;
        registered(state, row).await
    }

    /// Changes an account (admins); new credentials are registered with Maileva again.
    async fn update_carrier_account(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateCarrierAccountInput,
    ) -> Result<CarrierAccount> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let row = own_account(state, tenant.organisation_id, id).await?;
        let credentials_changed = input.client_secret.is_some()
            || input.password.is_some()
            || input.client_id.is_some()
            || input.username.is_some()
            || input.sandbox.is_some();
        let changes = AccountChanges {
            label: input.label,
            sandbox: input.sandbox,
            client_id: input.client_id,
            client_secret: input.client_secret.map(SecretString::from),
            username: input.username,
            password: input.password.map(SecretString::from),
            notification_email: input.notification_email,
            sender: input.sender.map(AddressInput::from),
            invoices_by_post: input.invoices_by_post,
            invoice_letter_kind: input.invoice_letter_kind,
            welcome_letter_document_id: match &input.welcome_letter_document_id {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(id) => Some(Some(parse_id("welcomeLetterDocumentId", id)?)),
            },
        };
        let row = account::update(&state.pool, &state.vault, row, changes).await?;
        if credentials_changed && row.active {
            return registered(state, row).await;
        }
        Ok(CarrierAccount(row))
    }

    /// Deactivates an account (admins): its queued letters still go; no new one does.
    async fn deactivate_carrier_account(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<CarrierAccount> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let mut row = own_account(state, tenant.organisation_id, id).await?;
        row.active = false;
        db::account::update(&state.pool, &row).await?;
        Ok(CarrierAccount(row))
    }

    /// Subscribes the account to Maileva's notifications again (admins), with a new password.
    async fn register_carrier_webhooks(&self, ctx: &Context<'_>, id: ID) -> Result<CarrierAccount> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let row = own_account(state, tenant.organisation_id, id).await?;
        registered(state, row).await
    }
}
