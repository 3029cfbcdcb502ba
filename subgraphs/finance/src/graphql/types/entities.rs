//! Federation entities: `Invoice` (another organisation's id resolves to null) and the
//! references finance extends (core's `Client`, `Societe`; commercial's `Contract`).

use async_graphql::{Context, Object, ID};

use super::invoice::{Client, Contract, Invoice, Societe};
use crate::{
    error::Result,
    graphql::{loaders, parse_id},
};

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
        let Ok(id) = parse_id("id", &id) else {
            return Ok(None);
        };
        Ok(loaders::invoice(ctx, id).await?.map(Invoice))
    }
}
