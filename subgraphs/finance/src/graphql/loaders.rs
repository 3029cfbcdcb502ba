//! DataLoaders, each bound to the caller's organisation: every batch is one statement.

use subgraph_kit::{
    by_id_loader,
    graphql::{load_group, load_one, Loaders},
    grouped_loader,
};
use uuid::Uuid;

use crate::{
    db::{
        self,
        invoice::{InvoiceRow, LineRow},
    },
    error::Result,
};

by_id_loader!(
    /// Invoices by id.
    InvoiceLoader,
    InvoiceRow,
    db::invoice::invoices_by_ids
);
grouped_loader!(
    /// The invoices of many clients.
    ClientInvoicesLoader,
    InvoiceRow,
    db::invoice::invoices_of_clients,
    client_id
);
grouped_loader!(
    /// The invoices of many contracts.
    ContractInvoicesLoader,
    InvoiceRow,
    db::invoice::invoices_of_contracts,
    contract_id,
    optional
);
grouped_loader!(
    /// The lines of many invoices.
    LinesLoader,
    LineRow,
    db::invoice::lines_of,
    invoice_id
);

/// The DataLoaders of each request with a tenant.
pub fn loaders() -> Loaders {
    Loaders::new()
        .with::<InvoiceLoader>()
        .with::<ClientInvoicesLoader>()
        .with::<ContractInvoicesLoader>()
        .with::<LinesLoader>()
}

pub async fn invoice(ctx: &async_graphql::Context<'_>, id: Uuid) -> Result<Option<InvoiceRow>> {
    load_one::<InvoiceLoader>(ctx, id).await
}

pub async fn lines(ctx: &async_graphql::Context<'_>, id: Uuid) -> Result<Vec<LineRow>> {
    load_group::<LinesLoader, _>(ctx, id).await
}

pub async fn of_client(ctx: &async_graphql::Context<'_>, id: Uuid) -> Result<Vec<InvoiceRow>> {
    load_group::<ClientInvoicesLoader, _>(ctx, id).await
}

pub async fn of_contract(ctx: &async_graphql::Context<'_>, id: Uuid) -> Result<Vec<InvoiceRow>> {
    load_group::<ContractInvoicesLoader, _>(ctx, id).await
}
