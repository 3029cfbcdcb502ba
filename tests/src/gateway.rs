//! Starting the gateway binary as a child process on a free port, with a committed router
//! configuration (development or production profile), and waiting until it is ready. The
//! process is killed when the handle drops.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::{bail, Context};

use crate::catalogue::repo_root;

/// A running gateway.
pub struct GatewayProcess {
    child: Child,
    pub port: u16,
}

impl GatewayProcess {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/graphql", self.port)
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the gateway binary is: `CRM_GATEWAY_BIN`, else beside the current executable's
/// target directory (`target/<profile>/crm-gateway`).
pub fn gateway_binary() -> anyhow::Result<PathBuf> {
    if let Ok(path) = std::env::var("CRM_GATEWAY_BIN") {
        return Ok(PathBuf::from(path));
    }
    binary("crm-gateway")
}

/// Where this build's binary `name` is (`target/<profile>/<name>`, found from the current
/// executable's directory).
///
/// # Errors
/// When it is not built.
pub fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let mut dir = exe.parent();
    while let Some(d) = dir {
        let candidate = d.join(name);
        if candidate.is_file() {
            return Ok(candidate);
        }
        dir = d.parent();
        if d.file_name().is_some_and(|n| n == "target") {
            break;
        }
    }
    bail!("{name} is not built: run `cargo build --workspace --bins` (`cargo xtask test` does)")
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The router configuration of development (and tests), relative to the repository root.
pub const DEVELOPMENT_CONFIG: &str = "gateway/router.config.yaml";
/// The production profile.
pub const PRODUCTION_CONFIG: &str = "gateway/router.production.yaml";

/// Starts the gateway with the development configuration over `supergraph` with
/// `subgraph_urls` (name → GraphQL URL) and the JWKS at `jwks_url`; `port` 0 picks a free
/// port. `log` receives its output (else it is discarded).
pub async fn start_gateway(
    supergraph: &Path,
    subgraph_urls: &HashMap<String, String>,
    jwks_url: &str,
    port: u16,
    log: Option<&Path>,
) -> anyhow::Result<GatewayProcess> {
    start_gateway_with(
        DEVELOPMENT_CONFIG,
        supergraph,
        subgraph_urls,
        jwks_url,
        port,
        log,
    )
    .await
}

/// [`start_gateway`] with the router configuration at `config` (relative to the repository
/// root).
pub async fn start_gateway_with(
    config: &str,
    supergraph: &Path,
    subgraph_urls: &HashMap<String, String>,
    jwks_url: &str,
    port: u16,
    log: Option<&Path>,
) -> anyhow::Result<GatewayProcess> {
    let binary = gateway_binary()?;
    let root = repo_root();
    // A port picked here could be taken before the gateway binds it; retry a few times.
    let attempts = if port == 0 { 5 } else { 1 };
    let mut last_error = None;
    for _ in 0..attempts {
        let port = if port == 0 { free_port()? } else { port };
        let mut command = Command::new(&binary);
        command
            .current_dir(&root)
            .env("ROUTER_CONFIG_FILE_PATH", root.join(config))
            .env("SUPERGRAPH_FILE_PATH", supergraph)
            .env("PORT", port.to_string())
            .env("HOST", "127.0.0.1")
            .env("CORE_JWKS_URL", jwks_url)
            .env("CARGO", "1") // silences the "debug binary" banner meant for end users
            .stdin(Stdio::null());
        for (name, url) in subgraph_urls {
            command.env(format!("{}_SUBGRAPH_URL", name.to_uppercase()), url);
        }
        match log {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                command.stdout(file.try_clone()?).stderr(file);
            }
            None => {
                command.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let ready = wait_ready(port, &mut child).await;
        match ready {
            Ok(()) => return Ok(GatewayProcess { child, port }),
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                last_error = Some(err);
            }
        }
    }
    Err(last_error.unwrap_or_else(|| anyhow::anyhow!("the gateway did not become ready")))
}

async fn wait_ready(port: u16, child: &mut Child) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/readiness");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("the gateway exited during startup ({status})");
        }
        if let Ok(response) = client.get(&url).send().await {
            if response.status().is_success() {
                return Ok(());
            }
        }
        if tokio::time::Instant::now() > deadline {
            bail!("the gateway was not ready within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
