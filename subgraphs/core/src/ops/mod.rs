//! Operations: each takes a transaction and parsed input, and is what resolvers call.

pub mod account;
pub mod invitation;
pub mod password;
pub mod session;
