//! GraphQL types of the core subgraph, one module per aggregate, each holding its object
//! types, inputs and root fields; plus the federation entity lookups.

pub mod account;
pub mod address;
pub mod client;
pub mod identity;
pub mod member;
pub mod organisation;

use async_graphql::{Context, Object, ID};

use subgraph_kit::graphql::entity;

use super::{parse_id, parts};
use crate::{
    db,
    error::{Error, Result},
    graphql::loaders::{AddressLoader, ClientLoader, SocieteLoader, UserLoader},
};
use address::Address;
use client::Client;
use identity::User;
use organisation::{Organisation, Societe};

/// Federation entity lookups (`_entities`). Each goes through a DataLoader scoped by the
/// caller's organisation: a batch of N representations is one statement, and an id from
/// another organisation resolves to null exactly like an unknown one.
#[derive(Default)]
pub struct EntityQuery;

#[Object]
impl EntityQuery {
    #[graphql(entity)]
    async fn find_client_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<Client>> {
        Ok(entity::<ClientLoader>(ctx, &id).await?.map(Client))
    }

    #[graphql(entity)]
    async fn find_address_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<Address>> {
        Ok(entity::<AddressLoader>(ctx, &id).await?.map(Address))
    }

    #[graphql(entity)]
    async fn find_societe_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<Societe>> {
        Ok(entity::<SocieteLoader>(ctx, &id).await?.map(Societe))
    }

    #[graphql(entity)]
    async fn find_user_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<User>> {
        Ok(entity::<UserLoader>(ctx, &id).await?.map(User))
    }

    #[graphql(entity)]
    async fn find_organisation_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<Organisation>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant().map_err(Error::from)?;
        let Ok(id) = parse_id("id", &id) else {
            return Ok(None);
        };
        if id != tenant.organisation_id {
            return Ok(None);
        }
        Ok(db::organisation::find_organisation(&state.pool, id)
            .await?
            .map(Organisation))
    }
}
