//! The finance subgraph binary: settings → telemetry → build → serve until Ctrl-C/SIGTERM.

use subgraph_finance::{config::Settings, startup::App};
use subgraph_kit::{server::shutdown_signal, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init("info,sqlx=warn");
    let settings = Settings::load()?;
    let app = App::build(settings).await?;
    tracing::info!(address = %app.local_addr()?, "finance subgraph listening");
    app.run_until(shutdown_signal()).await?;
    Ok(())
}
