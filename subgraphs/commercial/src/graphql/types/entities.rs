//! Federation entities: commercial's own (resolved in batches, scoped to the caller's
//! organisation: another organisation's id resolves to null) and the stubs of the entities it
//! extends (core's `Client`, `User`, `Societe`).

use async_graphql::{Context, Object, ID};
use subgraph_kit::{
    cost,
    graphql::entity,
    pagination::{self, child_page, Page},
};

use super::{
    catalogue::Product,
    commission::Commission,
    contract::{Contract, ContractLine},
    sales_rep::SalesRep,
};
use crate::{
    error::Result,
    graphql::{loaders, parse_id},
};

/// A core client, as commercial extends it: its contracts.
pub struct Client {
    pub id: ID,
}

#[Object]
impl Client {
    async fn id(&self) -> &ID {
        &self.id
    }

    /// The client's contracts, newest first, a page at a time.
    #[graphql(
        complexity = "pagination::cost(first, child_complexity)",
        directive = cost::paged::apply()
    )]
    async fn contracts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Contract>> {
        let id = parse_id("id", &self.id)?;
        child_page::<loaders::ClientContracts, _>(ctx, id, first, after, Contract).await
    }
}

/// A core société (legal entity), referenced by contracts and sales reps.
pub struct Societe {
    pub id: ID,
}

#[Object]
impl Societe {
    async fn id(&self) -> &ID {
        &self.id
    }
}

/// A core user, as commercial extends it: the sales rep they are.
pub struct User {
    pub id: ID,
}

#[Object]
impl User {
    async fn id(&self) -> &ID {
        &self.id
    }

    /// The sales rep linked to this user in the caller's organisation, if any.
    async fn sales_rep(&self, ctx: &Context<'_>) -> Result<Option<SalesRep>> {
        let Ok(id) = parse_id("id", &self.id) else {
            return Ok(None);
        };
        Ok(loaders::load::<loaders::UserSalesRepLoader>(ctx, id)
            .await?
            .map(SalesRep))
    }
}

#[derive(Default)]
pub struct EntityQuery;

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
        Ok(entity::<loaders::ProductLoader>(ctx, &id)
            .await?
            .map(Product))
    }

    #[graphql(entity)]
    async fn find_contract_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<Contract>> {
        Ok(entity::<loaders::ContractLoader>(ctx, &id)
            .await?
            .map(Contract))
    }

    #[graphql(entity)]
    async fn find_contract_line_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<ContractLine>> {
        Ok(entity::<loaders::LineLoader>(ctx, &id)
            .await?
            .map(ContractLine))
    }

    #[graphql(entity)]
    async fn find_sales_rep_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<SalesRep>> {
        Ok(entity::<loaders::SalesRepLoader>(ctx, &id)
            .await?
            .map(SalesRep))
    }

    #[graphql(entity)]
    async fn find_commission_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<Commission>> {
        Ok(entity::<loaders::CommissionLoader>(ctx, &id)
            .await?
            .map(Commission))
    }
}
