//! What every subgraph's GraphQL layer shares: the one way a schema is built (for serving and
//! for exporting its SDL alike), the request's parts, id parsing, and DataLoaders bound to the
//! caller's organisation — declared with [`by_id_loader!`] and [`grouped_loader!`], attached
//! per request by [`Loaders`], read through [`load_one`] / [`load_group`].

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    dataloader::{DataLoader, Loader},
    Context, ObjectType, SDLExportOptions, Schema, SchemaBuilder, SubscriptionType, ID,
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    error::{Error, Invalid, Result},
    guard::Guard,
    server::{AccessError, RequestContext},
};

/// Deepest query a subgraph answers.
pub const MAX_DEPTH: usize = 16;
/// Most complex query a subgraph answers.
pub const MAX_COMPLEXITY: usize = 5_000;

/// The schema builder of a federated subgraph: federation (subscriptions included), the
/// query limits and the request `guard` (hostile text, aliases, the fields an operation may
/// hold once). Serving adds the state with `.data(…)`; [`sdl`] exports the same schema.
pub fn schema<Q, M, S>(guard: Guard) -> SchemaBuilder<Q, M, S>
where
    Q: ObjectType + Default + 'static,
    M: ObjectType + Default + 'static,
    S: SubscriptionType + Default + 'static,
{
    Schema::build(Q::default(), M::default(), S::default())
        .enable_federation()
        .enable_subscription_in_federation()
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .extension(guard)
}

/// The subgraph SDL, as `_service { sdl }` serves it and `schema/<name>.graphql` commits it.
pub fn sdl<Q, M, S>() -> String
where
    Q: ObjectType + Default + 'static,
    M: ObjectType + Default + 'static,
    S: SubscriptionType + Default + 'static,
{
    schema::<Q, M, S>(Guard::new())
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation())
}

/// The subgraph's shared state (`S`, added with `.data(…)`) and the request context.
pub fn parts<'a, S: Send + Sync + 'static>(ctx: &'a Context<'_>) -> (&'a S, &'a RequestContext) {
    (
        ctx.data_unchecked::<S>(),
        ctx.data_unchecked::<RequestContext>(),
    )
}

/// Parses a GraphQL `ID` argument into a UUID.
pub fn parse_id(field: &str, id: &ID) -> Result<Uuid> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| Error::Invalid(Invalid::new(field, "is not a valid id")))
}

/// Parses an optional `ID` argument.
pub fn parse_opt_id(field: &str, id: Option<&ID>) -> Result<Option<Uuid>> {
    id.map(|id| parse_id(field, id)).transpose()
}

/// A DataLoader's source bound to one organisation: every batch is one statement scoped by
/// it, so a batch can never mix tenants.
pub trait TenantLoader: Loader<Uuid, Error = Arc<sqlx::Error>> + Sized {
    fn new(pool: PgPool, organisation_id: Uuid) -> Self;
}

/// The request's DataLoader of `L`; present whenever the request has a tenant. Without one,
/// the error says why: no identity (`UNAUTHENTICATED`) or no organisation (`FORBIDDEN`).
pub fn loader<'a, L: TenantLoader>(ctx: &'a Context<'_>) -> Result<&'a DataLoader<L>> {
    loader_of::<L>(ctx)
}

/// The request's DataLoader of any source `L` (a [`TenantLoader`] or the
/// [`ChildPages`](crate::pagination::ChildPages) of a list of children), with [`loader`]'s errors.
pub fn loader_of<'a, L: Send + Sync + 'static>(ctx: &'a Context<'_>) -> Result<&'a DataLoader<L>> {
    if let Some(loader) = ctx.data_opt::<DataLoader<L>>() {
        return Ok(loader);
    }
    match ctx.data_opt::<RequestContext>().map(RequestContext::tenant) {
        Some(Err(refused)) => Err(Error::Access(refused)),
        None => Err(Error::Access(AccessError::Unauthenticated)),
        Some(Ok(_)) => Err(Error::internal(format!(
            "no {} for this request: missing from the subgraph's loaders()",
            std::any::type_name::<L>()
        ))),
    }
}

/// Loads one key through the request's loader `L`.
pub async fn load_one<L: TenantLoader>(ctx: &Context<'_>, key: Uuid) -> Result<Option<L::Value>> {
    loader::<L>(ctx)?.load_one(key).await.map_err(load_failed)
}

/// A federation entity of loader `L` by its `id` key: one of a batch, scoped to the caller's
/// organisation, so an id of another organisation (or not an id at all) resolves to null
/// exactly like an unknown one.
pub async fn entity<L: TenantLoader>(ctx: &Context<'_>, id: &ID) -> Result<Option<L::Value>> {
    let loader = loader::<L>(ctx)?; // refused before anything else without a tenant
    match Uuid::parse_str(id.as_str()) {
        Ok(id) => loader.load_one(id).await.map_err(load_failed),
        Err(_) => Ok(None),
    }
}

/// Loads the group of one key through a grouped loader (empty when it has none).
pub async fn load_group<L, T>(ctx: &Context<'_>, key: Uuid) -> Result<Vec<T>>
where
    L: TenantLoader<Value = Vec<T>>,
    T: Clone + Send + Sync + 'static,
{
    Ok(load_one::<L>(ctx, key).await?.unwrap_or_default())
}

/// A batch that failed: an internal error.
pub fn load_failed(err: Arc<sqlx::Error>) -> Error {
    Error::Internal(anyhow::anyhow!("batch load failed: {err}"))
}

type Install = fn(&mut async_graphql::Data, &PgPool, Uuid);

/// The DataLoaders a subgraph gives each request with a tenant, bound to its organisation (and
/// each subscription connection: its subscriptions resolve fields through them too).
/// Anonymous requests get none, and entity lookups refuse them. The loaders batch and do not
/// cache, so a connection's loaders never serve stale rows.
#[derive(Clone, Default)]
pub struct Loaders(Vec<Install>);

impl Loaders {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds loader `L`.
    #[must_use]
    pub fn with<L: TenantLoader>(mut self) -> Self {
        self.0.push(|data, pool, organisation_id| {
            data.insert(DataLoader::new(
                L::new(pool.clone(), organisation_id),
                tokio::spawn,
            ));
        });
        self
    }

    /// Adds the loader of the pages of children `C` ([`crate::pagination::child_page`]).
    #[must_use]
    pub fn with_children<C: crate::pagination::Children>(mut self) -> Self {
        self.0.push(|data, pool, organisation_id| {
            data.insert(DataLoader::new(
                crate::pagination::ChildPages::<C>::new(pool.clone(), organisation_id),
                tokio::spawn,
            ));
        });
        self
    }

    /// Adds every loader to `request`.
    pub fn attach(
        &self,
        mut request: async_graphql::Request,
        pool: &PgPool,
        organisation_id: Uuid,
    ) -> async_graphql::Request {
        self.install(&mut request.data, pool, organisation_id);
        request
    }

    /// Adds every loader to `data` (a request's or a subscription connection's).
    pub fn install(&self, data: &mut async_graphql::Data, pool: &PgPool, organisation_id: Uuid) {
        for install in &self.0 {
            install(data, pool, organisation_id);
        }
    }
}

/// Groups rows by a key (the body of grouped loaders).
pub fn group_by<R>(rows: Vec<R>, key: impl Fn(&R) -> Option<Uuid>) -> HashMap<Uuid, Vec<R>> {
    let mut groups: HashMap<Uuid, Vec<R>> = HashMap::new();
    for row in rows {
        if let Some(k) = key(&row) {
            groups.entry(k).or_default().push(row);
        }
    }
    groups
}

/// Declares a [`TenantLoader`] struct (a pool and an organisation) whose `Loader` impl the
/// caller writes; the two macros below write it for the usual shapes.
#[macro_export]
macro_rules! tenant_loader {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name {
            pool: ::sqlx::PgPool,
            organisation_id: ::uuid::Uuid,
        }

        impl $crate::graphql::TenantLoader for $name {
            fn new(pool: ::sqlx::PgPool, organisation_id: ::uuid::Uuid) -> Self {
                Self { pool, organisation_id }
            }
        }
    };
}

/// Declares a [`TenantLoader`] of rows by key: `$fetch(pool, organisation_id, &keys)` returns
/// the rows, keyed by their field `$key` (`id` unless told otherwise).
#[macro_export]
macro_rules! by_id_loader {
    ($(#[$doc:meta])* $name:ident, $row:ty, $fetch:path) => {
        $crate::by_id_loader!($(#[$doc])* $name, $row, $fetch, id);
    };
    ($(#[$doc:meta])* $name:ident, $row:ty, $fetch:path, $key:ident) => {
        $crate::tenant_loader!($(#[$doc])* $name);

        impl ::async_graphql::dataloader::Loader<::uuid::Uuid> for $name {
            type Value = $row;
            type Error = ::std::sync::Arc<::sqlx::Error>;

            async fn load(
                &self,
                keys: &[::uuid::Uuid],
            ) -> Result<::std::collections::HashMap<::uuid::Uuid, $row>, Self::Error> {
                Ok($fetch(&self.pool, self.organisation_id, keys)
                    .await?
                    .into_iter()
                    .map(|row| (row.$key, row))
                    .collect())
            }
        }
    };
}

/// Declares a [`TenantLoader`] of the rows of many parents: `$fetch(pool, organisation_id,
/// &keys)` returns the rows, grouped by their field `$key` (a `Uuid`; an `Option<Uuid>` with
/// `, optional`, rows without one being left out).
#[macro_export]
macro_rules! grouped_loader {
    ($(#[$doc:meta])* $name:ident, $row:ty, $fetch:path, $key:ident) => {
        $crate::grouped_loader!(@impl $(#[$doc])* $name, $row, $fetch, |row| Some(row.$key));
    };
    ($(#[$doc:meta])* $name:ident, $row:ty, $fetch:path, $key:ident, optional) => {
        $crate::grouped_loader!(@impl $(#[$doc])* $name, $row, $fetch, |row| row.$key);
    };
    (@impl $(#[$doc:meta])* $name:ident, $row:ty, $fetch:path, $key:expr) => {
        $crate::tenant_loader!($(#[$doc])* $name);

        impl ::async_graphql::dataloader::Loader<::uuid::Uuid> for $name {
            type Value = Vec<$row>;
            type Error = ::std::sync::Arc<::sqlx::Error>;

            async fn load(
                &self,
                keys: &[::uuid::Uuid],
            ) -> Result<::std::collections::HashMap<::uuid::Uuid, Vec<$row>>, Self::Error> {
                let rows = $fetch(&self.pool, self.organisation_id, keys).await?;
                Ok($crate::graphql::group_by(rows, $key))
            }
        }
    };
}
