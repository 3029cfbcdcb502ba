//! The committed schema files are what the code produces: each subgraph's SDL, and the
//! supergraph composed from them. `cargo xtask schema` rewrites them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap or expect is a failed test

use crm_e2e::catalogue::{
    compose_supergraph, nats_config, repo_root, sdl_path, NATS_CONFIG_PATH, SUBGRAPHS,
    SUPERGRAPH_PATH,
};

fn committed(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path))
        .unwrap_or_else(|err| panic!("cannot read {path}: {err}"))
}

#[test]
fn every_subgraph_sdl_matches_its_committed_file() {
    for subgraph in SUBGRAPHS {
        let path = sdl_path(subgraph.name);
        assert!(
            committed(&path) == (subgraph.sdl)(),
            "{path} is out of date: run `cargo xtask schema` and commit the result"
        );
    }
}

#[test]
fn the_committed_supergraph_is_what_composition_produces() {
    let composed = compose_supergraph().expect("the subgraphs compose");
    assert!(
        committed(SUPERGRAPH_PATH) == composed,
        "{SUPERGRAPH_PATH} is out of date: run `cargo xtask schema` and commit the result"
    );
}

#[test]
fn the_committed_nats_configuration_is_what_the_bus_declarations_produce() {
    assert!(
        committed(NATS_CONFIG_PATH) == nats_config(),
        "{NATS_CONFIG_PATH} is out of date: run `cargo xtask schema` and commit the result"
    );
}
