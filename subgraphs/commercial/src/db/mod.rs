//! Commercial's SQL. Every function takes an executor; every query filters on
//! `organisation_id` first.

pub mod catalogue;
pub mod commission;
pub mod contract;
pub mod price_grid;
pub mod sales_rep;
pub mod scale;
