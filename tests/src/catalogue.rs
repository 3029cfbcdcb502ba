//! Every subgraph of the federation: its name in the supergraph, its SDL and its default
//! local address. Adding a subgraph starts here.

use crm_gateway::composition::{compose, CompositionError, SubgraphSdl};

/// A subgraph as the supergraph knows it.
#[derive(Debug, Clone, Copy)]
pub struct SubgraphEntry {
    pub name: &'static str,
    /// Default local port (`cargo xtask dev` and the committed supergraph).
    pub port: u16,
    pub sdl: fn() -> String,
    /// What it does on the bus (its NATS user and permissions).
    pub bus: &'static subgraph_kit::bus::Bus,
}

pub const SUBGRAPHS: &[SubgraphEntry] = &[
    SubgraphEntry {
        name: "core",
        port: 4001,
        sdl: subgraph_core::graphql::sdl,
        bus: &subgraph_core::BUS,
    },
    SubgraphEntry {
        name: "commercial",
        port: 4002,
        sdl: subgraph_commercial::graphql::sdl,
        bus: &subgraph_commercial::BUS,
    },
    SubgraphEntry {
        name: "finance",
        port: 4003,
        sdl: subgraph_finance::graphql::sdl,
        bus: &subgraph_finance::BUS,
    },
    SubgraphEntry {
        name: "engagement",
        port: 4004,
        sdl: subgraph_engagement::graphql::sdl,
        bus: &subgraph_engagement::BUS,
    },
    SubgraphEntry {
        name: "logistics",
        port: 4005,
        sdl: subgraph_logistics::graphql::sdl,
        bus: &subgraph_logistics::BUS,
    },
];

impl SubgraphEntry {
    pub fn default_url(&self) -> String {
        format!("http://127.0.0.1:{}/graphql", self.port)
    }
}

/// The path of a subgraph's committed SDL, relative to the repository root.
pub fn sdl_path(name: &str) -> String {
    format!("schema/{name}.graphql")
}

/// The committed supergraph, relative to the repository root.
pub const SUPERGRAPH_PATH: &str = "schema/supergraph.graphql";

/// The NATS server configuration of a deployment, relative to the repository root.
pub const NATS_CONFIG_PATH: &str = "compose/nats/nats.conf";

/// The NATS server configuration generated from every subgraph's bus declaration, for the
/// deployment's stream and subjects (`crm.events`, `CRM_EVENTS`, `crm.live`).
pub fn nats_config() -> String {
    let buses: Vec<subgraph_kit::bus::Bus> = SUBGRAPHS.iter().map(|s| *s.bus).collect();
    subgraph_kit::bus::nats_config(&buses, &subgraph_kit::events::EventsSettings::new(""))
}

/// Composes the supergraph from the subgraphs' current SDL and default URLs (gateway
/// deployments override the URLs in the router config).
pub fn compose_supergraph() -> Result<String, CompositionError> {
    compose(
        &SUBGRAPHS
            .iter()
            .map(|s| SubgraphSdl {
                name: s.name.to_owned(),
                url: s.default_url(),
                sdl: (s.sdl)(),
            })
            .collect::<Vec<_>>(),
    )
}

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default()
}
