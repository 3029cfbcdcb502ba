//! DataLoaders, each bound to the caller's organisation: every batch is one
//! `where organisation_id = $1 and … = any($2)` statement.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
pub(crate) use subgraph_kit::graphql::load_one as load;
use subgraph_kit::{
    by_id_loader, children, graphql::Loaders, grouped_loader, pagination::Order, tenant_loader,
};
use uuid::Uuid;

use crate::db;

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
children!(
    /// The contracts of a client, newest first.
    ClientContracts,
    db::contract::ContractRow,
    "contracts",
    "client_id",
    Order::NewestFirst("created_at"),
    |row| (Some(row.created_at), row.id)
);

tenant_loader!(
    /// The sales rep linked to each of many users.
    UserSalesRepLoader
);

impl Loader<Uuid> for UserSalesRepLoader {
    type Value = db::sales_rep::SalesRepRow;
    type Error = std::sync::Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        Ok(
            db::sales_rep::sales_reps_of_users(&self.pool, self.organisation_id, keys)
                .await?
                .into_iter()
                .filter_map(|row| row.user_id.map(|user| (user, row)))
                .collect(),
        )
    }
}

/// The DataLoaders of each request with a tenant.
pub fn loaders() -> Loaders {
    Loaders::new()
        .with::<ProductLoader>()
        .with::<RangeLoader>()
        .with::<ClawbackLoader>()
        .with::<ContractLoader>()
        .with::<LineLoader>()
        .with::<SalesRepLoader>()
        .with::<CommissionLoader>()
        .with::<ContractLinesLoader>()
        .with_children::<ClientContracts>()
        .with::<UserSalesRepLoader>()
}
