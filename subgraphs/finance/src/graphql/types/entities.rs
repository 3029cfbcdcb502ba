//! Federation entities: `Invoice` (another organisation's id resolves to null) and the stubs
//! of the entities finance extends (core's `Client`, `Societe`; commercial's `Contract`).

use async_graphql::{Context, Object, ID};
use subgraph_kit::{
    cost,
    graphql::entity,
    pagination::{self, child_page, Page},
};

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
    /// The client's invoices and credit notes, newest first, a page at a time.
    #[graphql(
        complexity = "pagination::cost(first, child_complexity)",
        directive = cost::paged::apply()
    )]
    async fn invoices(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Invoice>> {
        let id = parse_id("id", &self.id)?;
        child_page::<loaders::ClientInvoices, _>(ctx, id, first, after, Invoice).await
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
    /// The contract's invoices and credit notes, newest first, a page at a time.
    #[graphql(
        complexity = "pagination::cost(first, child_complexity)",
        directive = cost::paged::apply()
    )]
    async fn invoices(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Invoice>> {
        let id = parse_id("id", &self.id)?;
        child_page::<loaders::ContractInvoices, _>(ctx, id, first, after, Invoice).await
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
