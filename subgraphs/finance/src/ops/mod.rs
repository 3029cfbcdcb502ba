//! Operations: each takes a transaction, the tenant and parsed input, and is what resolvers
//! and consumers call.

pub mod credit_note;
pub mod draft;
pub mod issue;
pub mod payment;
