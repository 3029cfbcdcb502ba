//! What logistics keeps of a client beyond the kit's directory projection: whether it is a
//! person or a company, and its postal address (core's default billing address), which a
//! shipment's recipient is frozen from. Written by the directory hook, from core's events or
//! from core itself on a miss.

use crm_events::directory::{ClientKind, ClientSnapshot};
use sqlx::{PgConnection, PgExecutor};
use subgraph_kit::directory::DirectoryHook;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientRow {
    pub id: Uuid,
    pub name: String,
    pub kind: Option<String>,
    pub deleted: bool,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

/// Keeps a client's kind and postal address next to the kit's row.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostalIdentity;

impl DirectoryHook for PostalIdentity {
    async fn client_changed(
        &self,
        tx: &mut PgConnection,
        organisation_id: Uuid,
        c: &ClientSnapshot,
    ) -> sqlx::Result<()> {
        let address = c.billing_address.as_ref();
        let kind = match c.kind {
            ClientKind::Person => "PERSON",
            ClientKind::Company => "COMPANY",
        };
        sqlx::query(
            "update clients set kind = $3, address_line1 = $4, address_line2 = $5,
                    postal_code = $6, city = $7, country = $8
             where organisation_id = $1 and id = $2",
        )
        .bind(organisation_id)
        .bind(c.client_id)
        .bind(kind)
        .bind(address.map(|a| &a.line1))
        .bind(address.and_then(|a| a.line2.as_ref()))
        .bind(address.map(|a| &a.postal_code))
        .bind(address.map(|a| &a.city))
        .bind(address.map(|a| &a.country))
        .execute(tx)
        .await?;
        Ok(())
    }
}

pub async fn find_client(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ClientRow>> {
    sqlx::query_as(
        "select id, name, kind, deleted, address_line1, address_line2, postal_code, city, country
         from clients where organisation_id = $1 and id = $2",
    )
    .bind(organisation_id)
    .bind(id)
    .fetch_optional(db)
    .await
}
