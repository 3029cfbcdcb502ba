//! Sales reps (apporteurs): the people contracts and commissions are attributed to, and the
//! `User.salesRep` commercial adds to core's User. Changes need the ADMIN role.

use async_graphql::{Context, InputObject, Object, ID};
use chrono::{DateTime, Utc};
use subgraph_kit::{
    error::{is_constraint_violation, Invalid},
    server::RequestContext,
    text::check_email,
    Role,
};
use uuid::Uuid;

use super::entities::{Societe, User};
use crate::{
    db::{
        self,
        sales_rep::{SalesRepFields, SalesRepKind, SalesRepRow},
    },
    domain::{clean_text, optional_text},
    error::{Error, Result},
    graphql::{loaders, parse_id, parse_opt_id, parts, CommercialState},
};

/// Someone who brings business and earns commissions.
pub struct SalesRep(pub SalesRepRow);

#[Object]
impl SalesRep {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn kind(&self) -> SalesRepKind {
        self.0.kind
    }
    async fn first_name(&self) -> &str {
        &self.0.first_name
    }
    async fn last_name(&self) -> &str {
        &self.0.last_name
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// The member of the organisation this rep is, when they use the CRM.
    async fn user(&self) -> Option<User> {
        self.0.user_id.map(|id| User {
            id: ID(id.to_string()),
        })
    }
    /// The société they work for; null means every société.
    async fn societe(&self) -> Option<Societe> {
        self.0.societe_id.map(|id| Societe {
            id: ID(id.to_string()),
        })
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(InputObject)]
pub struct SalesRepInput {
    pub kind: SalesRepKind,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// A member of the organisation.
    pub user_id: Option<ID>,
    pub societe_id: Option<ID>,
    #[graphql(default = true)]
    pub active: bool,
}

async fn rep_fields(
    (state, request): (&CommercialState, &RequestContext),
    org: Uuid,
    input: SalesRepInput,
) -> Result<SalesRepFields> {
    let email = optional_text("email", input.email.as_deref(), 254)?.map(|e| e.to_lowercase());
    if let Some(email) = &email {
        check_email("email", email)?;
    }
    let user_id = parse_opt_id("userId", input.user_id.as_ref())?;
    let mut conn = state.pool.acquire().await?;
    if let Some(user) = user_id {
        if !state
            .directory
            .has_member(&mut conn, request, org, user)
            .await?
        {
            return Err(Invalid::new("userId", "is not a member of the organisation").into());
        }
    }
    let societe_id = parse_opt_id("societeId", input.societe_id.as_ref())?;
    if let Some(societe) = societe_id {
        if !state
            .directory
            .has_societe(&mut conn, request, org, societe)
            .await?
        {
            return Err(Invalid::new("societeId", "is not a société of the organisation").into());
        }
    }
    Ok(SalesRepFields {
        kind: input.kind,
        first_name: clean_text("firstName", &input.first_name, 100)?,
        last_name: clean_text("lastName", &input.last_name, 100)?,
        email,
        phone: optional_text("phone", input.phone.as_deref(), 30)?,
        user_id,
        societe_id,
        active: input.active,
    })
}

fn user_conflict(err: sqlx::Error) -> Error {
    if is_constraint_violation(&err, db::sales_rep::USER_KEY) {
        Error::conflict("this user is already a sales rep")
    } else {
        err.into()
    }
}

#[derive(Default)]
pub struct SalesRepQuery;

#[Object]
impl SalesRepQuery {
    /// Sales reps by name.
    async fn sales_reps(
        &self,
        ctx: &Context<'_>,
        active: Option<bool>,
        kind: Option<SalesRepKind>,
    ) -> Result<Vec<SalesRep>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let rows =
            db::sales_rep::list_sales_reps(&state.pool, tenant.organisation_id, active, kind)
                .await?;
        Ok(rows.into_iter().map(SalesRep).collect())
    }

    async fn sales_rep(&self, ctx: &Context<'_>, id: ID) -> Result<SalesRep> {
        let id = parse_id("id", &id)?;
        loaders::load::<loaders::SalesRepLoader>(ctx, id)
            .await?
            .map(SalesRep)
            .ok_or(Error::not_found("sales rep"))
    }
}

#[derive(Default)]
pub struct SalesRepMutation;

#[Object]
impl SalesRepMutation {
    async fn create_sales_rep(&self, ctx: &Context<'_>, input: SalesRepInput) -> Result<SalesRep> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let fields = rep_fields((state, request), tenant.organisation_id, input).await?;
        db::sales_rep::insert_sales_rep(&state.pool, tenant.organisation_id, &fields)
            .await
            .map(SalesRep)
            .map_err(user_conflict)
    }

    /// Changes a sales rep (deactivating keeps their contracts and commissions).
    async fn update_sales_rep(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: SalesRepInput,
    ) -> Result<SalesRep> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let fields = rep_fields((state, request), tenant.organisation_id, input).await?;
        db::sales_rep::update_sales_rep(&state.pool, tenant.organisation_id, id, &fields)
            .await
            .map_err(user_conflict)?
            .map(SalesRep)
            .ok_or(Error::not_found("sales rep"))
    }
}
