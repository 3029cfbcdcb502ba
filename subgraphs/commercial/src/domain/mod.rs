//! Commercial rules as types and pure functions: money and VAT, product and contract
//! lifecycles, price and commission calculation. No I/O here, so every rule is unit- and
//! property-tested on its own.

pub mod commission;
pub mod contract;
pub mod product;

/// Money and text inputs follow the kit's shared rules.
pub use subgraph_kit::{
    money,
    text::{clean_text, optional_text},
};
