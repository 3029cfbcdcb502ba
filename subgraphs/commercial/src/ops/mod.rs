//! Operations: each takes a transaction (or the pool, for a job), the tenant's data and parsed
//! input, and is what resolvers, consumers and jobs all call.

pub mod commission;
pub mod contract;
pub mod pricing;
