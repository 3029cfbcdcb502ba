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
    /// The lines of many invoices.
    LinesLoader,
    LineRow,
    db::invoice::lines_of,
    invoice_id
);

children!(
    /// The invoices and credit notes of a client, newest first.
    ClientInvoices,
    InvoiceRow,
    "invoices",
    "client_id",
    Order::NewestFirst("created_at"),
    |row| (Some(row.created_at), row.id)
);
children!(
    /// The invoices and credit notes of a contract, newest first.
    ContractInvoices,
    InvoiceRow,
    "invoices",
    "contract_id",
    Order::NewestFirst("created_at"),
    |row| (Some(row.created_at), row.id)
);

/// The DataLoaders of each request with a tenant.
pub fn loaders() -> Loaders {
    Loaders::new()
        .with::<InvoiceLoader>()
        .with_children::<ClientInvoices>()
        .with_children::<ContractInvoices>()
        .with::<LinesLoader>()
}

pub async fn invoice(ctx: &async_graphql::Context<'_>, id: Uuid) -> Result<Option<InvoiceRow>> {
    load_one::<InvoiceLoader>(ctx, id).await
}

pub async fn lines(ctx: &async_graphql::Context<'_>, id: Uuid) -> Result<Vec<LineRow>> {
    load_group::<LinesLoader, _>(ctx, id).await
}
