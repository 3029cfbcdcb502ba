//! Finance's SQL. Every function takes an executor; every query filters on
//! `organisation_id` first.

pub mod directory;
pub mod invoice;
pub mod payment;
pub mod settings;
