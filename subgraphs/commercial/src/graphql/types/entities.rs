//! Federation entities: commercial's own (resolved in batches, scoped to the caller's
//! organisation: another organisation's id resolves to null) and the references it extends
//! (core's `Client`, `User`, `Societe`).

use async_graphql::{Context, Object, ID};

use super::{
    catalogue::Product,
    commission::Commission,
    contract::{Client, Contract, ContractLine, Societe},
    sales_rep::{SalesRep, User},
};
use crate::{
    error::Result,
    graphql::{loaders, parse_id},
};

#[derive(Default)]
pub struct EntityQuery;

macro_rules! owned {
    ($ctx:expr, $id:expr, $loader:ty, $wrap:expr) => {{
        let Ok(id) = parse_id("id", &$id) else {
            return Ok(None);
        };
        Ok(loaders::load::<$loader>($ctx, id).await?.map($wrap))
    }};
}

#[Object]
impl EntityQuery {
    #[graphql(entity)]
    async fn find_client_by_id(&self, #[graphql(key)] id: ID) -> Client {
        Client { id }
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, #[graphql(key)] id: ID) -> User {
        User { id }
    }

    #[graphql(entity)]
    async fn find_societe_by_id(&self, #[graphql(key)] id: ID) -> Societe {
        Societe { id }
    }

    #[graphql(entity)]
    async fn find_product_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<Product>> {
        owned!(ctx, id, loaders::ProductLoader, Product)
    }

    #[graphql(entity)]
    async fn find_contract_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<Contract>> {
        owned!(ctx, id, loaders::ContractLoader, Contract)
    }

    #[graphql(entity)]
    async fn find_contract_line_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<ContractLine>> {
        owned!(ctx, id, loaders::LineLoader, ContractLine)
    }

    #[graphql(entity)]
    async fn find_sales_rep_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<SalesRep>> {
        owned!(ctx, id, loaders::SalesRepLoader, SalesRep)
    }

    #[graphql(entity)]
    async fn find_commission_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<Commission>> {
        owned!(ctx, id, loaders::CommissionLoader, Commission)
    }
}
