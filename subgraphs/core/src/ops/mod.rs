//! Operations: each takes a transaction and parsed input, and is what resolvers call.

pub mod invitation;
pub mod session;
