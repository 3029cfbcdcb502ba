//! DataLoaders, each bound to the caller's organisation: every batch is one statement.

use subgraph_kit::{
    by_id_loader, children,
    graphql::{load_group, load_one, Loaders},
    grouped_loader,
    pagination::Order,
};
use uuid::Uuid;

use crate::{
    db::{
        self,
        account::AccountRow,
        preference::PreferenceRow,
        shipment::ShipmentRow,
        tracking::{StatusChangeRow, TrackingEventRow},
    },
    error::Result,
};

by_id_loader!(
    /// Shipments by id.
    ShipmentLoader,
    ShipmentRow,
    db::shipment::by_ids
);
by_id_loader!(
    /// Clients' own postal settings, by client.
    PreferenceLoader,
    PreferenceRow,
    db::preference::of_clients,
    client_id
);
by_id_loader!(
    /// Carrier accounts by id.
    AccountLoader,
    AccountRow,
    db::account::by_ids
);
grouped_loader!(
    /// The tracking events of many shipments.
    TrackingLoader,
    TrackingEventRow,
    db::tracking::events_of,
    shipment_id
);
grouped_loader!(
    /// The status history of many shipments.
    HistoryLoader,
    StatusChangeRow,
    db::tracking::changes_of,
    shipment_id
);

children!(
    /// The shipments of a client, newest first.
    ClientShipments,
    ShipmentRow,
    "shipments",
    "client_id",
    Order::NewestFirst("created_at"),
    |row| (Some(row.created_at), row.id)
);
children!(
    /// The shipments about a contract, newest first.
    ContractShipments,
    ShipmentRow,
    "shipments",
    "contract_id",
    Order::NewestFirst("created_at"),
    |row| (Some(row.created_at), row.id)
);
children!(
    /// The shipments carrying an invoice, newest first.
    InvoiceShipments,
    ShipmentRow,
    "shipments",
    "invoice_id",
    Order::NewestFirst("created_at"),
    |row| (Some(row.created_at), row.id)
);

/// The DataLoaders of each request with a tenant.
pub fn loaders() -> Loaders {
    Loaders::new()
        .with::<ShipmentLoader>()
        .with::<AccountLoader>()
        .with::<PreferenceLoader>()
        .with::<TrackingLoader>()
        .with::<HistoryLoader>()
        .with_children::<ClientShipments>()
        .with_children::<ContractShipments>()
        .with_children::<InvoiceShipments>()
}

pub async fn shipment(ctx: &async_graphql::Context<'_>, id: Uuid) -> Result<Option<ShipmentRow>> {
    load_one::<ShipmentLoader>(ctx, id).await
}

pub async fn account(ctx: &async_graphql::Context<'_>, id: Uuid) -> Result<Option<AccountRow>> {
    load_one::<AccountLoader>(ctx, id).await
}

pub async fn tracking(ctx: &async_graphql::Context<'_>, id: Uuid) -> Result<Vec<TrackingEventRow>> {
    load_group::<TrackingLoader, _>(ctx, id).await
}

pub async fn history(ctx: &async_graphql::Context<'_>, id: Uuid) -> Result<Vec<StatusChangeRow>> {
    load_group::<HistoryLoader, _>(ctx, id).await
}

/// A client's own setting: its invoices go by post or not (`None`: the société's default).
pub async fn preference(ctx: &async_graphql::Context<'_>, client_id: Uuid) -> Result<Option<bool>> {
    Ok(load_one::<PreferenceLoader>(ctx, client_id)
        .await?
        .map(|p| p.invoices_by_post))
}
