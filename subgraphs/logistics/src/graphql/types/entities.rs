//! Federation entities: `Shipment` (another organisation's id resolves to null) and the stubs
//! of the entities logistics extends (core's `Client` and `Societe`, commercial's `Contract`,
//! finance's `Invoice`).

use async_graphql::{Context, Object, ID};
use subgraph_kit::{
    cost,
    graphql::entity,
    pagination::{self, child_page, Page},
};

use super::shipment::Shipment;
use crate::{
    error::Result,
    graphql::{loaders, parse_id},
};

/// A core client, as logistics extends it: its letters and its postal setting.
pub struct Client {
    pub id: ID,
}

#[Object]
impl Client {
    async fn id(&self) -> &ID {
        &self.id
    }
    /// The letters posted to the client, newest first, a page at a time.
    #[graphql(
        complexity = "pagination::cost(first, child_complexity)",
        directive = cost::paged::apply()
    )]
    async fn shipments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Shipment>> {
        let id = parse_id("id", &self.id)?;
        child_page::<loaders::ClientShipments, _>(ctx, id, first, after, Shipment).await
    }
    /// The client's own setting: its invoices go by post (true) or not (false); null: its
    /// société's default.
    async fn invoices_by_post(&self, ctx: &Context<'_>) -> Result<Option<bool>> {
        let id = parse_id("id", &self.id)?;
        loaders::preference(ctx, id).await
    }
}

/// A commercial contract, as logistics extends it: the letters about it.
pub struct Contract {
    pub id: ID,
}

#[Object]
impl Contract {
    async fn id(&self) -> &ID {
        &self.id
    }
    /// The letters about the contract, newest first, a page at a time.
    #[graphql(
        complexity = "pagination::cost(first, child_complexity)",
        directive = cost::paged::apply()
    )]
    async fn shipments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Shipment>> {
        let id = parse_id("id", &self.id)?;
        child_page::<loaders::ContractShipments, _>(ctx, id, first, after, Shipment).await
    }
}

/// A finance invoice, as logistics extends it: the letters carrying it.
pub struct Invoice {
    pub id: ID,
}

#[Object]
impl Invoice {
    async fn id(&self) -> &ID {
        &self.id
    }
    /// The letters carrying the invoice, newest first, a page at a time.
    #[graphql(
        complexity = "pagination::cost(first, child_complexity)",
        directive = cost::paged::apply()
    )]
    async fn shipments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<Shipment>> {
        let id = parse_id("id", &self.id)?;
        child_page::<loaders::InvoiceShipments, _>(ctx, id, first, after, Shipment).await
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
    async fn find_invoice_by_id(&self, #[graphql(key)] id: ID) -> Invoice {
        Invoice { id }
    }

    #[graphql(entity)]
    async fn find_societe_by_id(&self, #[graphql(key)] id: ID) -> Societe {
        Societe { id }
    }

    #[graphql(entity)]
    async fn find_shipment_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<Shipment>> {
        Ok(entity::<loaders::ShipmentLoader>(ctx, &id)
            .await?
            .map(Shipment))
    }
}
