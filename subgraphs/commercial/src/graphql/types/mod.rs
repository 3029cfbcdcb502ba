//! GraphQL types, one module per aggregate, each with its queries and mutations.

pub mod catalogue;
pub mod commission;
pub mod contract;
pub mod contract_input;
pub mod entities;
pub mod price_grid;
pub mod sales_rep;
pub mod scale;
