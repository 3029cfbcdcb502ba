//! The logistics subgraph's binary: settings from the environment, then serve until a signal.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    subgraph_kit::runtime::run_binary(subgraph_logistics::startup::build).await
}
