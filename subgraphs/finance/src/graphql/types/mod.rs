//! GraphQL types, one module per aggregate, each with its queries and mutations; the entities
//! and the stubs of other subgraphs' entities in `entities`.

pub mod entities;
pub mod invoice;
pub mod invoice_mutation;
pub mod settings;
