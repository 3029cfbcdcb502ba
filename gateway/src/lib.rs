//! The CRM gateway: hive-router used as a library, with our plugins, plus the composition of
//! the subgraphs' SDL into the supergraph it serves. Everything a federation router does
//! (planning, execution, batching, JWT validation, header propagation, subscriptions,
//! health) is hive-router's; this crate only adds what the CRM needs,
//! GraphiQL included: the router's laboratory loads from a CDN, ours is in the binary.

// ntex's middleware types nest deeply: a release build of the library needs this as much
// as the binary does (main.rs).
#![recursion_limit = "256"]

/// Composing subgraph SDLs into the supergraph, with graphql-composition's quirks handled.
pub mod composition;
/// Static pages (offline GraphiQL) served from the binary.
pub mod pages;
/// Our router plugins.
pub mod plugins;
/// Requests per client address.
pub mod rate_limit;

use hive_router::{error::RouterInitError, router_entrypoint, PluginRegistry};

/// Every plugin of ours; the router config enables them under `plugins:`.
pub fn plugin_registry() -> PluginRegistry {
    PluginRegistry::new()
        .register::<plugins::IdentityPlugin>()
        .register::<plugins::RequestIdPlugin>()
        .register::<pages::PagesPlugin>()
        .register::<rate_limit::RateLimitPlugin>()
}

/// Runs the router with our plugins. The config file comes from `ROUTER_CONFIG_FILE_PATH`.
pub async fn run() -> Result<(), RouterInitError> {
    router_entrypoint(plugin_registry()).await
}
