//! The engagement subgraph binary: settings → telemetry → build → serve until Ctrl-C/SIGTERM.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    subgraph_kit::runtime::run_binary(subgraph_engagement::startup::build).await
}
