//! Project commands, the cargo way (`cargo xtask <command>`):
//!
//! - `dev`: runs the stack for development (Postgres and NATS found or started, databases
//!   created and migrated, core subgraph and gateway started), prints the GraphiQL URL;
//! - `test`: runs every test tier against real Postgres and NATS;
//! - `schema`: exports each subgraph's SDL and composes the supergraph (`--check`: fail on drift).

#![allow(clippy::print_stdout)] // a command-line tool talks on stdout

mod services;

use std::{collections::HashMap, path::Path, process::Command};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use crm_e2e::catalogue::{compose_supergraph, repo_root, sdl_path, SUBGRAPHS, SUPERGRAPH_PATH};
use subgraph_kit::{
    runtime::{App, Running},
    settings::{ServiceSettings, SubgraphSettings},
};

#[derive(Parser)]
#[command(about = "CRM project commands")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the stack locally and print the GraphiQL URL.
    Dev {
        /// Load demo data (an organisation, a user and clients) if not there yet.
        #[arg(long)]
        demo: bool,
        /// Gateway port.
        #[arg(long, default_value_t = 4000)]
        port: u16,
    },
    /// Run every test (unit, API, end-to-end) against real Postgres and NATS.
    Test {
        /// Extra arguments for `cargo test` (e.g. a test name filter).
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Write schema/<subgraph>.graphql and schema/supergraph.graphql.
    Schema {
        /// Do not write: fail if the committed files differ from what the code produces.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    std::env::set_current_dir(repo_root())?;
    match cli.command {
        Cmd::Dev { demo, port } => tokio::runtime::Runtime::new()?.block_on(dev(demo, port)),
        Cmd::Test { args } => test(&args),
        Cmd::Schema { check } => schema(check),
    }
}

/// `cargo` through rustup's proxy (the pinned toolchain), without the per-package variables
/// `cargo run` gave this process: some build scripts watch them (ring reruns when
/// `CARGO_MANIFEST_DIR` changes), so inheriting them would rebuild half the dependency tree
/// here, and again at the next plain `cargo` command.
fn cargo() -> Command {
    let mut command = Command::new("cargo");
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let injected = name.starts_with("CARGO_PKG_")
            || matches!(
                name,
                "CARGO"
                    | "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
            );
        if injected {
            command.env_remove(name);
        }
    }
    command
}

fn run(mut command: Command) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok(())
}

/// Starts a built subgraph in this process.
fn start(app: anyhow::Result<App>, name: &str) -> anyhow::Result<Running> {
    Ok(app
        .with_context(|| format!("starting the {name} subgraph"))?
        .spawn()?)
}

fn schema(check: bool) -> anyhow::Result<()> {
    let mut files: Vec<(String, String)> = SUBGRAPHS
        .iter()
        .map(|s| (sdl_path(s.name), (s.sdl)()))
        .collect();
    files.push((SUPERGRAPH_PATH.to_owned(), compose_supergraph()?));
    let mut drift = Vec::new();
    for (path, content) in files {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == content {
            continue;
        }
        if check {
            drift.push(path);
        } else {
            std::fs::write(&path, content)?;
            println!("wrote {path}");
        }
    }
    if !drift.is_empty() {
        bail!(
            "schema drift in {}: run `cargo xtask schema` and commit the result",
            drift.join(", ")
        );
    }
    Ok(())
}

fn test(args: &[String]) -> anyhow::Result<()> {
    let postgres = services::ensure_postgres()?;
    let _nats = services::ensure_nats()?;
    // One workspace-wide build: it produces the gateway binary the end-to-end tests start, with
    // the same feature resolution as the test build below (a `-p` build would resolve
    // features differently and compile the router's dependency tree a second time).
    let mut build = cargo();
    build.args(["build", "--workspace", "--all-targets"]);
    run(build)?;
    let mut test = cargo();
    test.args(["test", "--workspace", "--all-targets"])
        .args(args)
        .env("TEST_DATABASE_URL", &postgres);
    run(test)
}

async fn dev(demo: bool, port: u16) -> anyhow::Result<()> {
    subgraph_kit::telemetry::init("info,sqlx=warn,tower_http=warn");
    let postgres = services::ensure_postgres()?;
    let _nats = services::ensure_nats()?;
    let key_path = Path::new(".dev/jwt-signing-key.pem");
    if !key_path.exists() {
        std::fs::create_dir_all(".dev")?;
        let pem = subgraph_core::tokens::generate_signing_key_pem()?;
        std::fs::write(key_path, secrecy::ExposeSecret::expose_secret(&pem))?;
        println!(
            "generated a development token signing key in {}",
            key_path.display()
        );
    }
    let signing_key = secrecy::SecretString::from(std::fs::read_to_string(key_path)?);

    let mut build = cargo();
    build.args(["build", "--workspace", "--bins"]);
    run(build)?;

    let nats_url = services::nats_url();
    let database = |name: &str| services::database_url(&postgres, &format!("crm_{name}"));
    // Each subgraph's own settings (defaults, file, environment), on this machine's services.
    let mut core = subgraph_core::config::Settings::load()?;
    core.service.database.url = database("core").into();
    core.service.events.nats_url.clone_from(&nats_url);
    core.service.auth.signing_key_pem = Some(signing_key);
    let core = start(subgraph_core::startup::build(core, None).await, "core")?;
    let jwks_url = format!("{}/.well-known/jwks.json", core.base_url);
    let local = |service: &mut ServiceSettings, name: &str| {
        service.database.url = database(name).into();
        service.events.nats_url.clone_from(&nats_url);
        service.auth.jwks_url.clone_from(&jwks_url);
    };
    let mut engagement = subgraph_engagement::config::Settings::load()?;
    local(&mut engagement.service, "engagement");
    engagement.directory.core_url.clone_from(&core.base_url);
    let engagement = start(
        subgraph_engagement::startup::build(engagement, None).await,
        "engagement",
    )?;
    let mut commercial = subgraph_commercial::config::Settings::load()?;
    local(&mut commercial.service, "commercial");
    commercial.directory.core_url.clone_from(&core.base_url);
    let commercial = start(
        subgraph_commercial::startup::build(commercial, None).await,
        "commercial",
    )?;
    let mut finance = subgraph_finance::config::Settings::load()?;
    local(&mut finance.service, "finance");
    finance.directory.core_url.clone_from(&core.base_url);
    finance.documents.dir = repo_root().join(".dev/finance-documents");
    let finance = start(
        subgraph_finance::startup::build(finance, None).await,
        "finance",
    )?;
    if demo {
        services::load_demo_data(&core.url()).await?;
    }
    let urls: HashMap<String, String> = [
        ("core".to_owned(), core.url()),
        ("commercial".to_owned(), commercial.url()),
        ("finance".to_owned(), finance.url()),
        ("engagement".to_owned(), engagement.url()),
    ]
    .into();
    let gateway = crm_e2e::gateway::start_gateway(
        &repo_root().join(SUPERGRAPH_PATH),
        &urls,
        &jwks_url,
        port,
        Some(Path::new(".dev/gateway.log")),
    )
    .await
    .context("starting the gateway (its log is .dev/gateway.log)")?;
    println!();
    println!("  GraphiQL:  {}  (open it in a browser)", gateway.url());
    println!("  core:       {}", core.url());
    println!("  commercial: {}", commercial.url());
    println!("  finance:    {}", finance.url());
    println!("  engagement: {}", engagement.url());
    if demo {
        println!(
            "  demo user: {} / {}",
            services::DEMO_EMAIL,
            services::DEMO_PASSWORD
        );
    }
    println!("  logs:      .dev/gateway.log   (Ctrl-C stops everything)");
    subgraph_kit::server::shutdown_signal().await;
    drop(gateway);
    engagement.stop().await;
    finance.stop().await;
    commercial.stop().await;
    core.stop().await;
    Ok(())
}
