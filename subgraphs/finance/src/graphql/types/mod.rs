//! GraphQL types, one module per aggregate, each with its queries and mutations.

pub mod entities;
pub mod invoice;
pub mod settings;
