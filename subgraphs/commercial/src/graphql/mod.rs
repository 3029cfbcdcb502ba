//! Commercial's GraphQL schema: the catalogue, contracts, sales reps and commissions; the
//! fields it contributes to core's `Client` (`contracts`) and `User` (`salesRep`); and its
//! entities, resolved in batches through tenant-bound DataLoaders.

pub mod loaders;
pub mod types;

use async_graphql::{Context, EmptySubscription, MergedObject};
use sqlx::PgPool;
use subgraph_kit::{directory::Directory, guard::Guard, server::RequestContext};

pub(crate) use subgraph_kit::graphql::{parse_id, parse_opt_id};
use types::{catalogue, commission, contract, entities, price_grid, sales_rep, scale};

/// What resolvers share across requests.
#[derive(Clone)]
pub struct CommercialState {
    pub pool: PgPool,
    /// Core's clients, sociétés and members, read through to core on a miss.
    pub directory: Directory,
}

#[derive(MergedObject, Default)]
pub struct Query(
    catalogue::CatalogueQuery,
    price_grid::PriceGridQuery,
    contract::ContractQuery,
    sales_rep::SalesRepQuery,
    scale::ScaleQuery,
    commission::CommissionQuery,
    entities::EntityQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    catalogue::CatalogueMutation,
    price_grid::PriceGridMutation,
    contract::ContractMutation,
    sales_rep::SalesRepMutation,
    scale::ScaleMutation,
    commission::CommissionMutation,
);

pub type CommercialSchema = async_graphql::Schema<Query, Mutation, EmptySubscription>;

pub fn build_schema(state: CommercialState) -> CommercialSchema {
    subgraph_kit::graphql::schema(Guard::new())
        .data(state)
        .finish()
}

/// The subgraph SDL, as `_service { sdl }` serves it and `schema/commercial.graphql` commits it.
pub fn sdl() -> String {
    subgraph_kit::graphql::sdl::<Query, Mutation, EmptySubscription>()
}

pub(crate) fn parts<'a>(ctx: &'a Context<'_>) -> (&'a CommercialState, &'a RequestContext) {
    subgraph_kit::graphql::parts(ctx)
}
