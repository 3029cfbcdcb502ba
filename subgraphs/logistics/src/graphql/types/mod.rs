//! The schema's types, one module per aggregate.

pub mod account;
pub mod entities;
pub mod shipment;
