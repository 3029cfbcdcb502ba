//! Clients (people and companies) and their addresses: CRUD with soft delete, the duplicate
//! rule, and the paged search.

use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, ID};
use chrono::{DateTime, NaiveDate, Utc};
use subgraph_kit::{
    error::is_constraint_violation,
    pagination::{build_page, Page, PageRequest},
    server::Tenant,
    Role,
};
use uuid::Uuid;

use super::{
    address::{insert_address, Address, AddressInput},
    organisation::Societe,
};
use crate::{
    db::{
        self,
        client::{ClientListFilter, ClientRow, ClientSort},
    },
    domain::client::{AddressKind, ClientFields, ClientInput, ClientKind, ClientStatus},
    error::{Error, Result},
    events::{self, CoreEvent},
    graphql::{
        load_group, load_one,
        loaders::{ClientAddressesLoader, SocieteLoader},
        parse_id, parts,
    },
};

/// A client: a person or a company the organisation sells to.
pub struct Client(pub ClientRow);

#[Object]
impl Client {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn kind(&self) -> ClientKind {
        self.0.kind
    }
    async fn status(&self) -> ClientStatus {
        self.0.status
    }
    /// Last name of a person, legal name of a company.
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }
    /// "First Last" for a person, the name for a company.
    async fn display_name(&self) -> String {
        match &self.0.first_name {
            Some(first) => format!("{first} {}", self.0.name),
            None => self.0.name.clone(),
        }
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// E.164.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    async fn birth_date(&self) -> Option<NaiveDate> {
        self.0.birth_date
    }
    async fn siren(&self) -> Option<&str> {
        self.0.siren.as_deref()
    }
    async fn vat_number(&self) -> Option<&str> {
        self.0.vat_number.as_deref()
    }
    /// Days between invoice and due date.
    async fn payment_terms_days(&self) -> i32 {
        self.0.payment_terms_days
    }
    /// The société that handles this client.
    async fn societe(&self, ctx: &Context<'_>) -> Result<Option<Societe>> {
        let Some(id) = self.0.societe_id else {
            return Ok(None);
        };
        let row = load_one::<SocieteLoader>(ctx, id).await?;
        Ok(row.map(Societe))
    }
    /// Addresses, defaults first, optionally of one kind.
    #[graphql(directive = subgraph_kit::cost::at_most::apply(3))]
    async fn addresses(
        &self,
        ctx: &Context<'_>,
        kind: Option<AddressKind>,
    ) -> Result<Vec<Address>> {
        let rows = load_group::<ClientAddressesLoader, _>(ctx, self.0.id).await?;
        Ok(rows
            .into_iter()
            .filter(|a| kind.is_none_or(|k| a.kind == k))
            .map(Address)
            .collect())
    }
    /// The default address of a kind (the billing address for invoices).
    async fn default_address(
        &self,
        ctx: &Context<'_>,
        kind: AddressKind,
    ) -> Result<Option<Address>> {
        let rows = load_group::<ClientAddressesLoader, _>(ctx, self.0.id).await?;
        Ok(rows
            .into_iter()
            .find(|a| a.kind == kind && a.is_default)
            .map(Address))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Set while the client is in the bin (restorable).
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }
}

#[derive(InputObject)]
pub struct CreateClientInput {
    pub kind: ClientKind,
    #[graphql(default_with = "ClientStatus::Active")]
    pub status: ClientStatus,
    /// Last name of a person, legal name of a company.
    pub name: String,
    /// Required for a person.
    pub first_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub societe_id: Option<ID>,
    pub siren: Option<String>,
    pub vat_number: Option<String>,
    #[graphql(default = 30)]
    pub payment_terms_days: i32,
    #[graphql(default)]
    pub addresses: Vec<AddressInput>,
}

/// Fields to change; omitted fields stay, `null` clears an optional one.
#[derive(InputObject)]
pub struct UpdateClientInput {
    pub kind: Option<ClientKind>,
    pub status: Option<ClientStatus>,
    pub name: Option<String>,
    pub first_name: MaybeUndefined<String>,
    pub email: MaybeUndefined<String>,
    pub phone: MaybeUndefined<String>,
    pub birth_date: MaybeUndefined<NaiveDate>,
    pub societe_id: MaybeUndefined<ID>,
    pub siren: MaybeUndefined<String>,
    pub vat_number: MaybeUndefined<String>,
    pub payment_terms_days: Option<i32>,
}

#[derive(InputObject, Default)]
pub struct ClientFilter {
    /// Case-insensitive match on name, first name, e-mail or phone.
    pub search: Option<String>,
    pub status: Option<ClientStatus>,
    pub kind: Option<ClientKind>,
    pub societe_id: Option<ID>,
    /// List the bin (deleted clients) instead of live ones.
    #[graphql(default)]
    pub deleted: bool,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum ClientOrderField {
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum OrderDirection {
    Asc,
    Desc,
}

#[derive(InputObject)]
pub struct ClientOrder {
    pub field: ClientOrderField,
    #[graphql(default_with = "OrderDirection::Asc")]
    pub direction: OrderDirection,
}

#[derive(Default)]
pub struct ClientQuery;

#[Object]
impl ClientQuery {
    /// The organisation's clients, filtered, sorted (by name unless told otherwise) and paged.
    #[graphql(
        complexity = "subgraph_kit::pagination::cost(first, child_complexity)",
        directive = subgraph_kit::cost::paged::apply()
    )]
    async fn clients(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<ClientFilter>,
        order_by: Option<ClientOrder>,
    ) -> Result<Page<Client>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let page = PageRequest::parse(first, after)?;
        let filter = filter.unwrap_or_default();
        let list_filter = ClientListFilter {
            search: filter.search,
            status: filter.status,
            kind: filter.kind,
            societe_id: filter
                .societe_id
                .as_ref()
                .map(|id| parse_id("filter.societeId", id))
                .transpose()?,
            deleted: filter.deleted,
        };
        let (sort, descending) = match order_by {
            None => (ClientSort::Name, false),
            Some(order) => (
                match order.field {
                    ClientOrderField::Name => ClientSort::Name,
                    ClientOrderField::CreatedAt => ClientSort::CreatedAt,
                    ClientOrderField::UpdatedAt => ClientSort::UpdatedAt,
                },
                order.direction == OrderDirection::Desc,
            ),
        };
        let (rows, total) = db::client::list_clients_page(
            &state.pool,
            tenant.organisation_id,
            &list_filter,
            sort,
            descending,
            &page,
        )
        .await?;
        Ok(build_page(
            &page,
            rows,
            total,
            |row| sort.keyset(row),
            Client,
        ))
    }

    /// A client of the organisation (deleted ones too, so the bin can show them).
    async fn client(&self, ctx: &Context<'_>, id: ID) -> Result<Client> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let id = parse_id("id", &id)?;
        db::client::lock_client(&state.pool, tenant.organisation_id, id)
            .await?
            .map(Client)
            .ok_or(Error::not_found("client"))
    }
}

#[derive(Default)]
pub struct ClientMutation;

#[Object]
impl ClientMutation {
    /// Creates a client with its addresses. A live client with the same phone and name in
    /// the organisation is a `CONFLICT` whose `extensions.existingId` names it.
    async fn create_client(&self, ctx: &Context<'_>, input: CreateClientInput) -> Result<Client> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let fields = ClientFields::parse(
            ClientInput {
                kind: input.kind,
                status: input.status,
                name: input.name,
                first_name: input.first_name,
                email: input.email,
                phone: input.phone,
                birth_date: input.birth_date,
                siren: input.siren,
                vat_number: input.vat_number,
                payment_terms_days: input.payment_terms_days,
            },
            Utc::now().date_naive(),
        )?;
        let addresses = input
            .addresses
            .iter()
            .enumerate()
            .map(|(i, a)| {
                Ok((
                    a.kind,
                    a.address.parse(&format!("addresses[{i}]"))?,
                    a.is_default,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let societe_id = input
            .societe_id
            .as_ref()
            .map(|id| parse_id("societeId", id))
            .transpose()?;

        let mut tx = state.pool.begin().await?;
        check_societe(&mut tx, tenant, societe_id).await?;
        let row = match db::client::insert_client(
            &mut *tx,
            tenant.organisation_id,
            Uuid::now_v7(),
            societe_id,
            &fields,
        )
        .await
        {
            Ok(row) => row,
            Err(err) if is_constraint_violation(&err, db::client::DUPLICATE_CONSTRAINT) => {
                drop(tx);
                return Err(duplicate(state, tenant, fields.phone.as_deref(), &fields.name).await);
            }
            Err(err) => return Err(err.into()),
        };
        for (kind, address, is_default) in addresses {
            insert_address(&mut tx, tenant, row.id, kind, &address, is_default).await?;
        }
        let created = CoreEvent::ClientCreated {
            client: &row,
            by: tenant.user_id,
        };
        events::record(&mut tx, &request.request_id, created).await?;
        tx.commit().await?;
        Ok(Client(row))
    }

    /// Changes some of a live client's fields; the result must satisfy every rule.
    async fn update_client(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateClientInput,
    ) -> Result<Client> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let id = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        let current = db::client::lock_client(&mut *tx, tenant.organisation_id, id)
            .await?
            .filter(|c| c.deleted_at.is_none())
            .ok_or(Error::not_found("client"))?;
        fn merge<T>(value: MaybeUndefined<T>, current: Option<T>) -> Option<T> {
            match value {
                MaybeUndefined::Undefined => current,
                MaybeUndefined::Null => None,
                MaybeUndefined::Value(v) => Some(v),
            }
        }
        let societe_id = match input.societe_id {
            MaybeUndefined::Undefined => current.societe_id,
            MaybeUndefined::Null => None,
            MaybeUndefined::Value(id) => Some(parse_id("societeId", &id)?),
        };
        let fields = ClientFields::parse(
            ClientInput {
                kind: input.kind.unwrap_or(current.kind),
                status: input.status.unwrap_or(current.status),
                name: input.name.unwrap_or(current.name),
                first_name: merge(input.first_name, current.first_name),
                email: merge(input.email, current.email),
                phone: merge(input.phone, current.phone),
                birth_date: merge(input.birth_date, current.birth_date),
                siren: merge(input.siren, current.siren),
                vat_number: merge(input.vat_number, current.vat_number),
                payment_terms_days: input
                    .payment_terms_days
                    .unwrap_or(current.payment_terms_days),
            },
            Utc::now().date_naive(),
        )?;
        check_societe(&mut tx, tenant, societe_id).await?;
        let row = match db::client::update_client(
            &mut *tx,
            tenant.organisation_id,
            id,
            societe_id,
            &fields,
        )
        .await
        {
            Ok(row) => row.ok_or(Error::not_found("client"))?,
            Err(err) if is_constraint_violation(&err, db::client::DUPLICATE_CONSTRAINT) => {
                drop(tx);
                return Err(duplicate(state, tenant, fields.phone.as_deref(), &fields.name).await);
            }
            Err(err) => return Err(err.into()),
        };
        let updated = CoreEvent::ClientUpdated {
            client: &row,
            by: tenant.user_id,
        };
        events::record(&mut tx, &request.request_id, updated).await?;
        tx.commit().await?;
        Ok(Client(row))
    }

    /// Moves a client to the bin; `restoreClient` brings it back.
    async fn delete_client(&self, ctx: &Context<'_>, id: ID) -> Result<Client> {
        set_deleted(ctx, id, true).await
    }

    /// Brings a client back from the bin, unless a live duplicate took its place meanwhile.
    async fn restore_client(&self, ctx: &Context<'_>, id: ID) -> Result<Client> {
        set_deleted(ctx, id, false).await
    }
}

async fn set_deleted(ctx: &Context<'_>, id: ID, deleted: bool) -> Result<Client> {
    let (state, request) = parts(ctx);
    let tenant = request.tenant_with_role(Role::Member)?;
    let id = parse_id("id", &id)?;
    let mut tx = state.pool.begin().await?;
    let current = db::client::lock_client(&mut *tx, tenant.organisation_id, id)
        .await?
        .ok_or(Error::not_found("client"))?;
    if current.deleted_at.is_some() == deleted {
        return Err(Error::InvalidTransition(if deleted {
            "this client is already deleted".into()
        } else {
            "this client is not deleted".into()
        }));
    }
    match db::client::set_deleted(&mut *tx, tenant.organisation_id, id, deleted).await {
        Ok(row) => {
            let updated = CoreEvent::ClientUpdated {
                client: &row,
                by: tenant.user_id,
            };
            events::record(&mut tx, &request.request_id, updated).await?;
            tx.commit().await?;
            Ok(Client(row))
        }
        Err(err) if is_constraint_violation(&err, db::client::DUPLICATE_CONSTRAINT) => {
            drop(tx);
            Err(duplicate(state, tenant, current.phone.as_deref(), &current.name).await)
        }
        Err(err) => Err(err.into()),
    }
}

/// A société given for a client must belong to the caller's organisation.
async fn check_societe(
    tx: &mut sqlx::PgConnection,
    tenant: Tenant,
    societe_id: Option<Uuid>,
) -> Result<()> {
    if let Some(id) = societe_id {
        db::societe::find_societe(&mut *tx, tenant.organisation_id, id)
            .await?
            .ok_or(Error::not_found("société"))?;
    }
    Ok(())
}

/// The `CONFLICT` for the duplicate rule, naming the live client already there.
async fn duplicate(
    state: &crate::graphql::CoreState,
    tenant: Tenant,
    phone: Option<&str>,
    name: &str,
) -> Error {
    let existing = match phone {
        Some(phone) => {
            db::client::find_duplicate(&state.pool, tenant.organisation_id, phone, name).await
        }
        None => Ok(None),
    };
    match existing {
        Ok(existing) => Error::Conflict {
            message: match &existing {
                Some(c) => format!(
                    "a live client with this phone and name already exists: {} ({})",
                    c.name, c.id
                ),
                None => "a live client with this phone and name already exists".into(),
            },
            existing_id: existing.map(|c| c.id),
        },
        Err(err) => err.into(),
    }
}
