//! The gateway binary: hive-router with the CRM's plugins.

// ntex's middleware types nest deeply.
#![recursion_limit = "256"]

use hive_router::{
    configure_global_allocator, error::RouterInitError, init_rustls_crypto_provider,
    RouterGlobalAllocator,
};
// `#[hive_router::main]` expands to `ntex::…`.
use hive_router::ntex;

configure_global_allocator!();

#[hive_router::main]
async fn main() -> Result<(), RouterInitError> {
    init_rustls_crypto_provider();
    crm_gateway::run().await
}
