//! Engagement's SQL. Every function takes an executor; every query filters on
//! `organisation_id` first.

pub mod activity;
pub mod email;
pub mod notification;
pub mod task;
