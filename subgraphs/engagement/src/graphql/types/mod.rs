//! GraphQL types of the engagement subgraph, one module per aggregate, each holding its object
//! types, inputs and root fields; the entities and the stubs of core's in `entities`.

pub mod activity;
pub mod email;
pub mod entities;
pub mod notification;
pub mod task;
