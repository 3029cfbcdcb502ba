//! The organisation (tenant) and its sociétés; its members and invitations are in `member`.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use subgraph_kit::{error::is_constraint_violation, Role};
use uuid::Uuid;

use crate::{
    db::{self, organisation::OrganisationRow, societe::SocieteRow},
    domain::{
        clean_text,
        societe::{PostalAddress, SocieteFields, SocieteInput},
    },
    error::{Error, Result},
    events::{self, CoreEvent, SocieteChange},
    graphql::{parse_id, parts},
};

/// An organisation: the tenant that owns every other piece of data.
pub struct Organisation(pub OrganisationRow);

#[Object]
impl Organisation {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A legal entity (société) of the organisation: it issues invoices and signs contracts.
pub struct Societe(pub SocieteRow);

/// A postal address printed on documents.
#[derive(SimpleObject)]
pub struct PostalAddressView {
    pub line1: String,
    pub line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

#[Object]
impl Societe {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Raison sociale.
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn siren(&self) -> &str {
        &self.0.siren
    }
    async fn siret(&self) -> Option<&str> {
        self.0.siret.as_deref()
    }
    /// Intra-EU VAT number.
    async fn vat_number(&self) -> Option<&str> {
        self.0.vat_number.as_deref()
    }
    async fn address(&self) -> Option<PostalAddressView> {
        let s = &self.0;
        Some(PostalAddressView {
            line1: s.address_line1.clone()?,
            line2: s.address_line2.clone(),
            postal_code: s.postal_code.clone()?,
            city: s.city.clone()?,
            country: s.country.clone(),
        })
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(InputObject)]
pub struct PostalAddressInput {
    pub line1: String,
    pub line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2; FR when omitted.
    pub country: Option<String>,
}

impl PostalAddressInput {
    pub(crate) fn parse(&self, prefix: &str) -> Result<PostalAddress> {
        Ok(PostalAddress::parse(
            prefix,
            &self.line1,
            self.line2.as_deref(),
            &self.postal_code,
            &self.city,
            self.country.as_deref(),
        )?)
    }
}

#[derive(InputObject)]
pub struct SocieteInputObject {
    /// Raison sociale.
    pub name: String,
    /// 9 digits, Luhn-checked.
    pub siren: String,
    /// 14 digits starting with the SIREN.
    pub siret: Option<String>,
    /// FR + key + SIREN for a French société.
    pub vat_number: Option<String>,
    pub address: Option<PostalAddressInput>,
}

impl SocieteInputObject {
    fn parse(&self) -> Result<SocieteFields> {
        let address = self
            .address
            .as_ref()
            .map(|a| a.parse("address"))
            .transpose()?;
        Ok(SocieteFields::parse(SocieteInput {
            name: &self.name,
            siren: &self.siren,
            siret: self.siret.as_deref(),
            vat_number: self.vat_number.as_deref(),
            address,
        })?)
    }
}

#[derive(Default)]
pub struct OrganisationQuery;

#[Object]
impl OrganisationQuery {
    /// The organisation the caller acts in.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        db::organisation::find_organisation(&state.pool, tenant.organisation_id)
            .await?
            .map(Organisation)
            .ok_or(Error::not_found("organisation"))
    }

    /// The organisation's sociétés, by name.
    async fn societes(&self, ctx: &Context<'_>) -> Result<Vec<Societe>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let rows = db::societe::list_societes(&state.pool, tenant.organisation_id).await?;
        Ok(rows.into_iter().map(Societe).collect())
    }

    async fn societe(&self, ctx: &Context<'_>, id: ID) -> Result<Societe> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let id = parse_id("id", &id)?;
        db::societe::find_societe(&state.pool, tenant.organisation_id, id)
            .await?
            .map(Societe)
            .ok_or(Error::not_found("société"))
    }
}

#[derive(Default)]
pub struct OrganisationMutation;

#[Object]
impl OrganisationMutation {
    /// Renames the organisation (admins).
    async fn update_organisation(&self, ctx: &Context<'_>, name: String) -> Result<Organisation> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let name = clean_text("name", &name, 200)?;
        db::organisation::update_organisation_name(&state.pool, tenant.organisation_id, &name)
            .await?
            .map(Organisation)
            .ok_or(Error::not_found("organisation"))
    }

    /// Adds a société (admins). Its SIREN is unique within the organisation.
    async fn create_societe(
        &self,
        ctx: &Context<'_>,
        input: SocieteInputObject,
    ) -> Result<Societe> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let fields = input.parse()?;
        let mut tx = state.pool.begin().await?;
        let row =
            db::societe::insert_societe(&mut *tx, tenant.organisation_id, Uuid::now_v7(), &fields)
                .await
                .map_err(siren_conflict)?;
        let event = CoreEvent::SocieteChanged {
            societe: &row,
            change: SocieteChange::Created,
            by: tenant.user_id,
        };
        events::record(&mut tx, &request.request_id, event).await?;
        tx.commit().await?;
        Ok(Societe(row))
    }

    async fn update_societe(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: SocieteInputObject,
    ) -> Result<Societe> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let fields = input.parse()?;
        let mut tx = state.pool.begin().await?;
        let row = db::societe::update_societe(&mut *tx, tenant.organisation_id, id, &fields)
            .await
            .map_err(siren_conflict)?
            .ok_or(Error::not_found("société"))?;
        let event = CoreEvent::SocieteChanged {
            societe: &row,
            change: SocieteChange::Updated,
            by: tenant.user_id,
        };
        events::record(&mut tx, &request.request_id, event).await?;
        tx.commit().await?;
        Ok(Societe(row))
    }

    /// Deletes a société that nothing refers to (admins).
    async fn delete_societe(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let uuid = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        match db::societe::delete_societe(&mut *tx, tenant.organisation_id, uuid).await {
            Ok(Some(row)) => {
                let event = CoreEvent::SocieteChanged {
                    societe: &row,
                    change: SocieteChange::Deleted,
                    by: tenant.user_id,
                };
                events::record(&mut tx, &request.request_id, event).await?;
                tx.commit().await?;
                Ok(id)
            }
            Ok(None) => Err(Error::not_found("société")),
            Err(err) if is_constraint_violation(&err, db::client::SOCIETE_CONSTRAINT) => {
                Err(Error::conflict("this société still has clients"))
            }
            Err(err) => Err(err.into()),
        }
    }
}

fn siren_conflict(err: sqlx::Error) -> Error {
    if is_constraint_violation(&err, "societes_siren_key") {
        Error::conflict("a société with this SIREN already exists in the organisation")
    } else {
        err.into()
    }
}
