//! DataLoaders, each bound to the caller's organisation: every batch is one
//! `where organisation_id = $1 and … = any($2)` statement.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    dataloader::{DataLoader, Loader},
    Context,
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    db,
    error::{Error, Result},
};

macro_rules! by_id_loader {
    ($(#[$doc:meta])* $name:ident, $row:ty, $fetch:path) => {
        by_id_loader!($(#[$doc])* $name, $row, $fetch, id);
    };
    ($(#[$doc:meta])* $name:ident, $row:ty, $fetch:path, $key:ident) => {
        $(#[$doc])*
        pub struct $name {
            pub pool: PgPool,
            pub organisation_id: Uuid,
        }

        impl Loader<Uuid> for $name {
            type Value = $row;
            type Error = Arc<sqlx::Error>;

            async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, $row>, Self::Error> {
                Ok($fetch(&self.pool, self.organisation_id, keys)
                    .await?
                    .into_iter()
                    .map(|row| (row.$key, row))
                    .collect())
            }
        }
    };
}

macro_rules! grouped_loader {
    ($(#[$doc:meta])* $name:ident, $row:ty, $fetch:path, $key:ident) => {
        $(#[$doc])*
        pub struct $name {
            pub pool: PgPool,
            pub organisation_id: Uuid,
        }

        impl Loader<Uuid> for $name {
            type Value = Vec<$row>;
            type Error = Arc<sqlx::Error>;

            async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<$row>>, Self::Error> {
                let mut groups: HashMap<Uuid, Vec<$row>> = HashMap::new();
                for row in $fetch(&self.pool, self.organisation_id, keys).await? {
                    groups.entry(row.$key).or_default().push(row);
                }
                Ok(groups)
            }
        }
    };
}

by_id_loader!(
    /// Products by id.
    ProductLoader,
    db::catalogue::ProductRow,
    db::catalogue::products_by_ids
);
by_id_loader!(
    /// Product ranges by id.
    RangeLoader,
    db::catalogue::RangeRow,
    db::catalogue::ranges_by_ids
);
by_id_loader!(
    /// The clawback of each of many commissions (at most one each).
    ClawbackLoader,
    db::commission::ClawbackRow,
    db::commission::clawbacks_of,
    commission_id
);
by_id_loader!(
    /// Contracts by id.
    ContractLoader,
    db::contract::ContractRow,
    db::contract::contracts_by_ids
);
by_id_loader!(
    /// Contract lines by id.
    LineLoader,
    db::contract::LineRow,
    db::contract::lines_by_ids
);
by_id_loader!(
    /// Sales reps by id.
    SalesRepLoader,
    db::sales_rep::SalesRepRow,
    db::sales_rep::sales_reps_by_ids
);
by_id_loader!(
    /// Commissions by id.
    CommissionLoader,
    db::commission::CommissionRow,
    db::commission::commissions_by_ids
);
grouped_loader!(
    /// The lines of many contracts.
    ContractLinesLoader,
    db::contract::LineRow,
    db::contract::lines_of_contracts,
    contract_id
);
grouped_loader!(
    /// The contracts of many clients.
    ClientContractsLoader,
    db::contract::ContractRow,
    db::contract::contracts_of_clients,
    client_id
);

/// The sales rep linked to each of many users.
pub struct UserSalesRepLoader {
    pub pool: PgPool,
    pub organisation_id: Uuid,
}

impl Loader<Uuid> for UserSalesRepLoader {
    type Value = db::sales_rep::SalesRepRow;
    type Error = Arc<sqlx::Error>;

    async fn load(
        &self,
        keys: &[Uuid],
    ) -> Result<HashMap<Uuid, db::sales_rep::SalesRepRow>, Self::Error> {
        Ok(
            db::sales_rep::sales_reps_of_users(&self.pool, self.organisation_id, keys)
                .await?
                .into_iter()
                .filter_map(|row| row.user_id.map(|user| (user, row)))
                .collect(),
        )
    }
}

/// Adds every loader, bound to `organisation_id`, to a request.
pub fn attach(
    request: async_graphql::Request,
    pool: &PgPool,
    organisation_id: Uuid,
) -> async_graphql::Request {
    macro_rules! with {
        ($request:expr, $($loader:ident),*) => {
            $request$(.data(DataLoader::new(
                $loader { pool: pool.clone(), organisation_id },
                tokio::spawn,
            )))*
        };
    }
    with!(
        request,
        ProductLoader,
        RangeLoader,
        ClawbackLoader,
        ContractLoader,
        LineLoader,
        SalesRepLoader,
        CommissionLoader,
        ContractLinesLoader,
        ClientContractsLoader,
        UserSalesRepLoader
    )
}

/// Loads one key through the request's loader `L` (absent when the caller has no tenant).
pub async fn load<L>(ctx: &Context<'_>, key: Uuid) -> Result<Option<L::Value>>
where
    L: Loader<Uuid, Error = Arc<sqlx::Error>>,
{
    let loader = ctx.data_opt::<DataLoader<L>>().ok_or(Error::Access(
        subgraph_kit::server::AccessError::Unauthenticated,
    ))?;
    loader
        .load_one(key)
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("batch load failed: {e}")))
}
