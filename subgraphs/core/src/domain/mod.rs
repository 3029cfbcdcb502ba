//! Core's domain rules as types that parse: a value of these types is valid by construction,
//! so the layers below never re-check. Parsing errors name the input field they came from.

pub mod client;
pub mod contact;
pub mod invitation;
pub mod password;
pub mod societe;

pub use subgraph_kit::error::Invalid;
/// SIREN, SIRET and VAT numbers, and text inputs, are shared with the other subgraphs.
pub use subgraph_kit::{
    identifiers,
    text::{clean_text, country_code, optional_text},
};
