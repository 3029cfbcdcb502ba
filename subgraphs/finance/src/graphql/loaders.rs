//! DataLoaders, each bound to the caller's organisation: every batch is one statement.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    dataloader::{DataLoader, Loader},
    Context,
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    db::{self, invoice::InvoiceRow, invoice::LineRow},
    error::{Error, Result},
};

/// Invoices by id.
pub struct InvoiceLoader {
    pub pool: PgPool,
    pub organisation_id: Uuid,
}

impl Loader<Uuid> for InvoiceLoader {
    type Value = InvoiceRow;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, InvoiceRow>, Self::Error> {
        Ok(
            db::invoice::invoices_by_ids(&self.pool, self.organisation_id, keys)
                .await?
                .into_iter()
                .map(|row| (row.id, row))
                .collect(),
        )
    }
}

/// The invoices of many clients, or of many contracts.
pub struct InvoicesOfLoader {
    pub pool: PgPool,
    pub organisation_id: Uuid,
    pub column: &'static str,
}

impl Loader<Uuid> for InvoicesOfLoader {
    type Value = Vec<InvoiceRow>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<InvoiceRow>>, Self::Error> {
        let mut groups: HashMap<Uuid, Vec<InvoiceRow>> = HashMap::new();
        for row in
            db::invoice::invoices_of(&self.pool, self.organisation_id, self.column, keys).await?
        {
            let key = if self.column == "contract_id" {
                row.contract_id
            } else {
                Some(row.client_id)
            };
            if let Some(key) = key {
                groups.entry(key).or_default().push(row);
            }
        }
        Ok(groups)
    }
}

/// The lines of many invoices.
pub struct LinesLoader {
    pub pool: PgPool,
    pub organisation_id: Uuid,
}

impl Loader<Uuid> for LinesLoader {
    type Value = Vec<LineRow>;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<LineRow>>, Self::Error> {
        let mut groups: HashMap<Uuid, Vec<LineRow>> = HashMap::new();
        for row in db::invoice::lines_of(&self.pool, self.organisation_id, keys).await? {
            groups.entry(row.invoice_id).or_default().push(row);
        }
        Ok(groups)
    }
}

/// The loaders of clients' and contracts' invoices, told apart by type.
pub struct ClientInvoices(pub DataLoader<InvoicesOfLoader>);
pub struct ContractInvoices(pub DataLoader<InvoicesOfLoader>);

pub fn attach(
    request: async_graphql::Request,
    pool: &PgPool,
    organisation_id: Uuid,
) -> async_graphql::Request {
    let of = |column| {
        DataLoader::new(
            InvoicesOfLoader {
                pool: pool.clone(),
                organisation_id,
                column,
            },
            tokio::spawn,
        )
    };
    request
        .data(DataLoader::new(
            InvoiceLoader {
                pool: pool.clone(),
                organisation_id,
            },
            tokio::spawn,
        ))
        .data(DataLoader::new(
            LinesLoader {
                pool: pool.clone(),
                organisation_id,
            },
            tokio::spawn,
        ))
        .data(ClientInvoices(of("client_id")))
        .data(ContractInvoices(of("contract_id")))
}

fn failed(e: Arc<sqlx::Error>) -> Error {
    Error::Internal(anyhow::anyhow!("batch load failed: {e}"))
}

fn unauthenticated() -> Error {
    Error::Access(subgraph_kit::server::AccessError::Unauthenticated)
}

pub async fn invoice(ctx: &Context<'_>, id: Uuid) -> Result<Option<InvoiceRow>> {
    let loader = ctx
        .data_opt::<DataLoader<InvoiceLoader>>()
        .ok_or_else(unauthenticated)?;
    loader.load_one(id).await.map_err(failed)
}

pub async fn lines(ctx: &Context<'_>, id: Uuid) -> Result<Vec<LineRow>> {
    let loader = ctx
        .data_opt::<DataLoader<LinesLoader>>()
        .ok_or_else(unauthenticated)?;
    Ok(loader
        .load_one(id)
        .await
        .map_err(failed)?
        .unwrap_or_default())
}

pub async fn of_client(ctx: &Context<'_>, id: Uuid) -> Result<Vec<InvoiceRow>> {
    let loader = ctx
        .data_opt::<ClientInvoices>()
        .ok_or_else(unauthenticated)?;
    Ok(loader
        .0
        .load_one(id)
        .await
        .map_err(failed)?
        .unwrap_or_default())
}

pub async fn of_contract(ctx: &Context<'_>, id: Uuid) -> Result<Vec<InvoiceRow>> {
    let loader = ctx
        .data_opt::<ContractInvoices>()
        .ok_or_else(unauthenticated)?;
    Ok(loader
        .0
        .load_one(id)
        .await
        .map_err(failed)?
        .unwrap_or_default())
}
