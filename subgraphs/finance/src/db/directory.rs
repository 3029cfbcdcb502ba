//! What finance keeps of a client beyond the kit's directory projection: the identity and
//! billing address an invoice starts from (written by the directory hook, from core's events
//! or from core itself on a miss).

use crm_events::directory::ClientSnapshot;
use sqlx::{PgConnection, PgExecutor};
use subgraph_kit::directory::DirectoryHook;
use uuid::Uuid;

use crate::domain::invoice::BuyerKind;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientRow {
    pub organisation_id: Uuid,
    pub id: Uuid,
    pub name: String,
    /// None until an event of core's since migration 0009 said.
    pub kind: Option<BuyerKind>,
    pub siren: Option<String>,
    pub vat_number: Option<String>,
    pub email: Option<String>,
    pub payment_terms_days: i32,
    pub deleted: bool,
    pub billing_line1: Option<String>,
    pub billing_line2: Option<String>,
    pub billing_postal_code: Option<String>,
    pub billing_city: Option<String>,
    pub billing_country: Option<String>,
}

/// Keeps a client's identity and billing address next to the kit's row.
#[derive(Debug, Clone, Copy, Default)]
pub struct BillingIdentity;

impl DirectoryHook for BillingIdentity {
    async fn client_changed(
        &self,
        tx: &mut PgConnection,
        organisation_id: Uuid,
        c: &ClientSnapshot,
    ) -> sqlx::Result<()> {
        let address = c.billing_address.as_ref();
        sqlx::query(
            "update clients set siren = $3, vat_number = $4, email = $5, payment_terms_days = $6,
                    billing_line1 = $7, billing_line2 = $8, billing_postal_code = $9,
                    billing_city = $10, billing_country = $11, kind = $12
             where organisation_id = $1 and id = $2",
        )
        .bind(organisation_id)
        .bind(c.client_id)
        .bind(&c.siren)
        .bind(&c.vat_number)
        .bind(&c.email)
        .bind(c.payment_terms_days)
        .bind(address.map(|a| &a.line1))
        .bind(address.and_then(|a| a.line2.as_ref()))
        .bind(address.map(|a| &a.postal_code))
        .bind(address.map(|a| &a.city))
        .bind(address.map(|a| &a.country))
        .bind(BuyerKind::from(c.kind))
        .execute(tx)
        .await?;
        Ok(())
    }
}

/// A client of the organisation, not deleted.
#[tracing::instrument(skip(db))]
pub async fn find_client(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ClientRow>> {
    sqlx::query_as(
        "select organisation_id, id, name, kind, siren, vat_number, email, payment_terms_days, deleted,
                billing_line1, billing_line2, billing_postal_code, billing_city, billing_country
         from clients where organisation_id = $1 and id = $2 and not deleted",
    )
    .bind(organisation_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// How many sociétés an organisation has, as far as drafting an invoice cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Societes {
    None,
    One(Uuid),
    Several,
}

#[tracing::instrument(skip(db))]
pub async fn societes_of(db: impl PgExecutor<'_>, organisation_id: Uuid) -> sqlx::Result<Societes> {
    let ids: Vec<Uuid> =
        sqlx::query_scalar("select id from societes where organisation_id = $1 limit 2")
            .bind(organisation_id)
            .fetch_all(db)
            .await?;
    Ok(match ids.as_slice() {
        [] => Societes::None,
        [one] => Societes::One(*one),
        _ => Societes::Several,
    })
}
