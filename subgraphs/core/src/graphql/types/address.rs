//! Clients' addresses: added, changed and removed, one default per kind; every change is a
//! `client.updated` (the billing address travels in client events).

use async_graphql::{Context, InputObject, Object, ID};
use subgraph_kit::{server::Tenant, Role};
use uuid::Uuid;

use super::organisation::PostalAddressInput;
use crate::{
    db::{self, address::AddressRow},
    domain::client::AddressKind,
    error::{Error, Result},
    events::{self, CoreEvent},
    graphql::{parse_id, parts},
};

/// A client's postal address.
pub struct Address(pub AddressRow);

#[Object]
impl Address {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn client_id(&self) -> ID {
        ID(self.0.client_id.to_string())
    }
    async fn kind(&self) -> AddressKind {
        self.0.kind
    }
    async fn line1(&self) -> &str {
        &self.0.line1
    }
    async fn line2(&self) -> Option<&str> {
        self.0.line2.as_deref()
    }
    async fn postal_code(&self) -> &str {
        &self.0.postal_code
    }
    async fn city(&self) -> &str {
        &self.0.city
    }
    /// ISO 3166-1 alpha-2.
    async fn country(&self) -> &str {
        &self.0.country
    }
    /// Whether this is the client's default address of its kind.
    async fn is_default(&self) -> bool {
        self.0.is_default
    }
}

#[derive(InputObject)]
pub struct AddressInput {
    pub kind: AddressKind,
    #[graphql(flatten)]
    pub address: PostalAddressInput,
    /// Make it the default of its kind; the first address of a kind always is.
    #[graphql(default)]
    pub is_default: bool,
}

#[derive(Default)]
pub struct AddressMutation;

#[Object]
impl AddressMutation {
    /// Adds an address to a live client.
    async fn add_address(
        &self,
        ctx: &Context<'_>,
        client_id: ID,
        input: AddressInput,
    ) -> Result<Address> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let client_id = parse_id("clientId", &client_id)?;
        let address = input.address.parse("input")?;
        let mut tx = state.pool.begin().await?;
        let client = db::client::lock_client(&mut *tx, tenant.organisation_id, client_id)
            .await?
            .filter(|c| c.deleted_at.is_none())
            .ok_or(Error::not_found("client"))?;
        let row = insert_address(
            &mut tx,
            tenant,
            client_id,
            input.kind,
            &address,
            input.is_default,
        )
        .await?;
        address_changed(&mut tx, &request.request_id, tenant, &client).await?;
        tx.commit().await?;
        Ok(Address(row))
    }

    /// Replaces an address's fields.
    async fn update_address(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: AddressInput,
    ) -> Result<Address> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let id = parse_id("id", &id)?;
        let address = input.address.parse("input")?;
        let mut tx = state.pool.begin().await?;
        let current = db::address::lock_address(&mut *tx, tenant.organisation_id, id)
            .await?
            .ok_or(Error::not_found("address"))?;
        // A default stays a default unless another address takes the role.
        let is_default = input.is_default || (current.is_default && current.kind == input.kind);
        if is_default {
            db::address::clear_default(
                &mut *tx,
                tenant.organisation_id,
                current.client_id,
                input.kind,
            )
            .await?;
        }
        let row = db::address::update_address(
            &mut *tx,
            tenant.organisation_id,
            id,
            input.kind,
            &address,
            is_default,
        )
        .await?
        .ok_or(Error::not_found("address"))?;
        if let Some(client) =
            db::client::find_client(&mut *tx, tenant.organisation_id, current.client_id).await?
        {
            address_changed(&mut tx, &request.request_id, tenant, &client).await?;
        }
        tx.commit().await?;
        Ok(Address(row))
    }

    async fn delete_address(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let uuid = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        let current = db::address::lock_address(&mut *tx, tenant.organisation_id, uuid)
            .await?
            .ok_or(Error::not_found("address"))?;
        db::address::delete_address(&mut *tx, tenant.organisation_id, uuid).await?;
        if let Some(client) =
            db::client::find_client(&mut *tx, tenant.organisation_id, current.client_id).await?
        {
            address_changed(&mut tx, &request.request_id, tenant, &client).await?;
        }
        tx.commit().await?;
        Ok(id)
    }
}

/// An address change is a change of the client for its consumers (the billing address
/// travels in client events).
async fn address_changed(
    tx: &mut sqlx::PgConnection,
    request_id: &str,
    tenant: Tenant,
    client: &db::client::ClientRow,
) -> Result<()> {
    let updated = CoreEvent::ClientUpdated {
        client,
        by: tenant.user_id,
    };
    events::record(tx, request_id, updated).await
}

pub(super) async fn insert_address(
    tx: &mut sqlx::PgConnection,
    tenant: Tenant,
    client_id: Uuid,
    kind: AddressKind,
    address: &crate::domain::societe::PostalAddress,
    is_default: bool,
) -> Result<AddressRow> {
    let first_of_kind =
        !db::address::has_address_of_kind(&mut *tx, tenant.organisation_id, client_id, kind)
            .await?;
    let is_default = is_default || first_of_kind;
    if is_default {
        db::address::clear_default(&mut *tx, tenant.organisation_id, client_id, kind).await?;
    }
    Ok(db::address::insert_address(
        &mut *tx,
        tenant.organisation_id,
        client_id,
        Uuid::now_v7(),
        kind,
        address,
        is_default,
    )
    .await?)
}
