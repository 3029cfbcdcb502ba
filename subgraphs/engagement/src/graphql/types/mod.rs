//! GraphQL types of the engagement subgraph, one module per aggregate, each holding its object
//! types, inputs and root fields; entity lookups live with notifications.

pub mod activity;
pub mod email;
pub mod notification;
pub mod task;
