//! Federation entities: `Invoice` (another organisation's id resolves to null) and the stubs
//! of the entities finance extends (core's `Client`, `Societe`; commercial's `Contract`).

use async_graphql::{Context, Object, ID};
use subgraph_kit::graphql::entity;

use super::invoice::Invoice;
use crate::{
    error::Result,
    graphql::{loaders, parse_id},
};

/// A core client, as finance extends it: its invoices.
pub struct Client {
    pub id: ID,
}

#[Object]
impl Client {
    async fn id(&self) -> &ID {
        &self.id
    }
    /// The client's invoices and credit notes, newest first.
    async fn invoices(&self, ctx: &Context<'_>) -> Result<Vec<Invoice>> {
        let Ok(id) = parse_id("id", &self.id) else {
            return Ok(Vec::new());
        };
        Ok(loaders::of_client(ctx, id)
            .await?
            .into_iter()
            .map(Invoice)
            .collect())
    }
}

/// A commercial contract, as finance extends it: its invoices.
pub struct Contract {
    pub id: ID,
}

#[Object]
impl Contract {
    async fn id(&self) -> &ID {
        &self.id
    }
    /// The contract's invoices and credit notes, newest first.
    async fn invoices(&self, ctx: &Context<'_>) -> Result<Vec<Invoice>> {
        let Ok(id) = parse_id("id", &self.id) else {
            return Ok(Vec::new());
        };
        Ok(loaders::of_contract(ctx, id)
            .await?
            .into_iter()
            .map(Invoice)
            .collect())
    }
}

/// A core société.
pub struct Societe {
    pub id: ID,
}

#[Object]
impl Societe {
    async fn id(&self) -> &ID {
        &self.id
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
    async fn find_contract_by_id(&self, #[graphql(key)] id: ID) -> Contract {
        Contract { id }
    }

    #[graphql(entity)]
    async fn find_societe_by_id(&self, #[graphql(key)] id: ID) -> Societe {
        Societe { id }
    }

    #[graphql(entity)]
    async fn find_invoice_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<Invoice>> {
        Ok(entity::<loaders::InvoiceLoader>(ctx, &id)
            .await?
            .map(Invoice))
    }
}
