//! Project commands, the cargo way (`cargo xtask <command>`):
//!
//! - `dev`: runs the stack for development (Postgres and NATS found or started, databases
//!   created and migrated, the subgraphs and the gateway started, a mail catcher when no SMTP
//!   relay answers), prints the GraphiQL URL; `--demo` loads the demo organisation;
//! - `seed`: loads an organisation at scale into the development databases;
//! - `test`: runs every test tier against real Postgres and NATS;
//! - `schema`: exports each subgraph's SDL, composes the supergraph and generates the NATS
//!   server's users and permissions from the subgraphs' bus declarations (`--check`: fail on
//!   drift);
//! - `events`: dead letters and parked outbox rows of a development database (list, replay,
//!   discard, retry): the same commands every subgraph binary takes in a deployment.

#![allow(clippy::print_stdout)] // a command-line tool talks on stdout

mod services;

use std::{collections::HashMap, io::IsTerminal, path::Path, process::Command, time::Instant};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use crm_e2e::{
    catalogue::{
        compose_supergraph, nats_config, repo_root, sdl_path, NATS_CONFIG_PATH, SUBGRAPHS,
        SUPERGRAPH_PATH,
    },
    demo,
    gateway::GatewayProcess,
    seed::{self, Counts, SeedOptions},
};
use crm_test_support::smtp::SmtpSink;
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

#[derive(clap::Args)]
struct DevOptions {
    /// Load the demo organisation (the whole CRM in use) if it is not there yet.
    #[arg(long)]
    demo: bool,
    /// Drop the development databases first, to start from empty.
    #[arg(long)]
    reset: bool,
    /// Gateway port.
    #[arg(long, default_value_t = 4000)]
    port: u16,
}

#[derive(clap::Args)]
struct SeedCommand {
    /// How many clients.
    #[arg(long, default_value_t = 100_000)]
    clients: u64,
    /// Contracts per client.
    #[arg(long, default_value_t = 2)]
    contracts_per_client: u64,
    /// Monthly invoices per contract.
    #[arg(long, default_value_t = 5)]
    invoices_per_contract: u64,
    /// Drop the development databases first, to start from empty.
    #[arg(long)]
    reset: bool,
    /// Gateway port while seeding.
    #[arg(long, default_value_t = 4000)]
    port: u16,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the stack locally and print the GraphiQL URL.
    Dev(DevOptions),
    /// Load an organisation at scale (100,000 clients by default) into the development stack.
    Seed(SeedCommand),
    /// Run every test (unit, API, end-to-end) against real Postgres and NATS.
    Test {
        /// Extra arguments for `cargo test` (e.g. a test name filter).
        #[arg(trailing_var_arg = true)]
        args: Vec<String>,
    },
    /// Dead letters and parked outbox rows of a subgraph's development database.
    Events {
        /// The subgraph (core, commercial, finance, engagement, logistics).
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(DEV_SUBGRAPHS))]
        subgraph: String,
        /// Its database, when not the development one (`postgres://…/crm_<subgraph>`).
        #[arg(long)]
        database_url: Option<String>,
        #[command(subcommand)]
        command: subgraph_kit::operations::EventsCommand,
    },
    /// Write schema/<subgraph>.graphql, schema/supergraph.graphql and compose/nats/nats.conf.
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
        Cmd::Dev(options) => tokio::runtime::Runtime::new()?.block_on(dev(options)),
        Cmd::Seed(command) => tokio::runtime::Runtime::new()?.block_on(seed_command(command)),
        Cmd::Test { args } => test(&args),
        Cmd::Schema { check } => schema(check),
        Cmd::Events {
            subgraph,
            database_url,
            command,
        } => tokio::runtime::Runtime::new()?.block_on(events(&subgraph, database_url, &command)),
    }
}

async fn events(
    subgraph: &str,
    database_url: Option<String>,
    command: &subgraph_kit::operations::EventsCommand,
) -> anyhow::Result<()> {
    let url = database_url.unwrap_or_else(|| {
        services::database_url(&services::postgres_url(), &format!("crm_{subgraph}"))
    });
    let settings = subgraph_kit::db::DatabaseSettings::new(&url);
    let pool = subgraph_kit::db::connect(&settings).await?;
    print!("{}", subgraph_kit::operations::run(&pool, command).await?);
    Ok(())
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
    files.push((NATS_CONFIG_PATH.to_owned(), nats_config()));
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

/// The subgraphs `dev` runs, by database name.
const DEV_SUBGRAPHS: [&str; 5] = ["core", "commercial", "finance", "engagement", "logistics"];

/// The development stack: the five subgraphs in this process over the `crm_*` databases,
/// the gateway as a child process, the mail catcher when there is no relay, and a local
/// Maileva when none is configured.
struct DevStack {
    postgres: String,
    core: Running,
    commercial: Running,
    finance: Running,
    engagement: Running,
    logistics: Running,
    gateway: GatewayProcess,
    /// Where e-mail goes, for people.
    mail: String,
    /// Where letters go.
    maileva: String,
    _maileva: Option<crm_test_support::maileva::FakeMaileva>,
    /// The key the mailer opens e-mailed secrets with (sign-up links, for the demo and seed).
    mail_key: subgraph_kit::sealed::OpeningKey,
    _mail_catcher: Option<SmtpSink>,
    _nats: Option<services::StartedService>,
}

impl DevStack {
    /// Finds or starts Postgres and NATS, builds the binaries, starts everything; `reset`
    /// drops the development databases first.
    async fn start(port: u16, reset: bool) -> anyhow::Result<Self> {
        let postgres = services::ensure_postgres()?;
        let nats = services::ensure_nats()?;
        if reset {
            let names: Vec<String> = DEV_SUBGRAPHS.iter().map(|n| format!("crm_{n}")).collect();
            services::drop_databases(&postgres, &names).await?;
            for dir in [
                ".dev/finance-documents",
                ".dev/logistics-documents",
                ".dev/mail",
            ] {
                if Path::new(dir).exists() {
                    std::fs::remove_dir_all(dir)?;
                }
            }
            println!("reset: dropped {}", names.join(", "));
        }
        let signing_key = dev_signing_key()?;
        let mut build = cargo();
        build.args(["build", "--workspace", "--bins"]);
        run(build)?;

        let database = |name: &str| services::database_url(&postgres, &format!("crm_{name}"));
        let nats_url = services::nats_url();
        // Each subgraph's own settings (defaults, file, environment), on this machine's services.
        let mut core = subgraph_core::config::Settings::load()?;
        core.service.database.url = database("core").into();
        core.service.events.nats_url.clone_from(&nats_url);
        core.service.auth.signing_key_pem = Some(signing_key);
        let mail_key = dev_mail_key()?;
        if core.service.auth.mail_sealing_key_file.is_none() {
            core.service.auth.mail_sealing_key_pem = Some(mail_key.sealing_key().to_pem().into());
        }
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
        // The key engagement opens mail with: the demo and the seed read sign-up links with it.
        let mail_key = match &engagement.email.opening_key_file {
            None => {
                engagement.email.opening_key_pem = Some(mail_key.to_pem());
                mail_key
            }
            Some(file) => {
                subgraph_kit::sealed::OpeningKey::from_pem(&secrecy::SecretString::from(
                    std::fs::read_to_string(file)
                        .with_context(|| format!("reading {}", file.display()))?,
                ))?
            }
        };
        let (mail_catcher, mail) = dev_mail(&mut engagement.email).await?;
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
        let internal_token = dev_secret(".dev/internal-token")?;
        if finance.documents.internal_token_file.is_none() {
            finance.documents.internal_token = Some(internal_token.clone());
        }
        let finance = start(
            subgraph_finance::startup::build(finance, None).await,
            "finance",
        )?;
        let mut logistics = subgraph_logistics::config::Settings::load()?;
        local(&mut logistics.service, "logistics");
        logistics.directory.core_url.clone_from(&core.base_url);
        logistics.finance.url.clone_from(&finance.base_url);
        logistics.documents.dir = repo_root().join(".dev/logistics-documents");
        if logistics.finance.internal_token_file.is_none() {
            logistics.finance.internal_token = Some(internal_token);
        }
        if logistics.vault.key.is_none() && logistics.vault.key_file.is_none() {
            logistics.vault.key = Some(dev_secret(".dev/logistics-vault-key")?);
        }
        // Maileva is on the internet: without one configured, letters go to a local one.
        let (fake_maileva, maileva) = if std::env::var_os("LOGISTICS__MAILEVA__API_URL").is_some() {
            (None, format!("Maileva at {}", logistics.maileva.api_url))
        } else {
            let fake = crm_test_support::maileva::FakeMaileva::start().await;
            let token = format!(
                "{}/auth/realms/services/protocol/openid-connect/token",
                fake.url
            );
            logistics.maileva.api_url.clone_from(&fake.url);
            logistics.maileva.sandbox_api_url.clone_from(&fake.url);
            logistics.maileva.auth_url.clone_from(&token);
            logistics.maileva.sandbox_auth_url = token;
            let line = format!(
                "{} (a local Maileva: set LOGISTICS__MAILEVA__API_URL for the real one; its account is {} / {})",
                fake.url,
                crm_test_support::maileva::CLIENT_ID,
                crm_test_support::maileva::USERNAME
            );
            (Some(fake), line)
        };
        let logistics = start(
            subgraph_logistics::startup::build(logistics, None).await,
            "logistics",
        )?;
        let urls: HashMap<String, String> = [
            ("core".to_owned(), core.url()),
            ("commercial".to_owned(), commercial.url()),
            ("finance".to_owned(), finance.url()),
            ("engagement".to_owned(), engagement.url()),
            ("logistics".to_owned(), logistics.url()),
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
        Ok(Self {
            postgres,
            core,
            commercial,
            finance,
            engagement,
            logistics,
            gateway,
            mail,
            maileva,
            _maileva: fake_maileva,
            mail_key,
            _mail_catcher: mail_catcher,
            _nats: nats,
        })
    }

    /// The URL of subgraph `name`'s development database.
    fn database(&self, name: &str) -> String {
        services::database_url(&self.postgres, &format!("crm_{name}"))
    }

    /// One line per service.
    fn print(&self) {
        println!();
        println!(
            "  gateway     {}  GraphiQL: open it in a browser",
            self.gateway.url()
        );
        println!("  core        {}", self.core.url());
        println!("  commercial  {}", self.commercial.url());
        println!("  finance     {}", self.finance.url());
        println!("  engagement  {}", self.engagement.url());
        println!("  logistics   {}", self.logistics.url());
        println!("  e-mail      {}", self.mail);
        println!("  letters     {}", self.maileva);
    }

    async fn stop(self) {
        drop(self.gateway);
        self.logistics.stop().await;
        self.engagement.stop().await;
        self.finance.stop().await;
        self.commercial.stop().await;
        self.core.stop().await;
    }
}

async fn dev(options: DevOptions) -> anyhow::Result<()> {
    // Our own lines say what runs where; the services log warnings and errors only.
    subgraph_kit::telemetry::init("warn");
    let stack = DevStack::start(options.port, options.reset).await?;
    let demo = if options.demo {
        Some(load_demo(&stack).await?)
    } else {
        None
    };
    stack.print();
    if let Some(demo) = demo {
        println!("  demo        {demo}");
        println!(
            "              owner {} / {}, member {} / {}",
            demo::DEMO_EMAIL,
            demo::DEMO_PASSWORD,
            demo::MEMBER_EMAIL,
            demo::MEMBER_PASSWORD
        );
    }
    println!("  logs        .dev/gateway.log; warnings here (RUST_LOG=info for more)");
    println!("  Ctrl-C stops everything.");
    subgraph_kit::server::shutdown_signal().await;
    stack.stop().await;
    Ok(())
}

async fn seed_command(command: SeedCommand) -> anyhow::Result<()> {
    subgraph_kit::telemetry::init("warn");
    let options = SeedOptions {
        clients: command.clients,
        contracts_per_client: command.contracts_per_client,
        invoices_per_contract: command.invoices_per_contract,
    };
    let stack = DevStack::start(command.port, command.reset).await?;
    println!(
        "seeding {} clients, {} contracts, {} invoices",
        options.clients,
        options.clients * options.contracts_per_client,
        options.clients * options.contracts_per_client * options.invoices_per_contract,
    );
    let mut progress = Progress::new(options.clients);
    let seeded = seed::seed(
        &stack.gateway.url(),
        |name| stack.database(name),
        &stack.mail_key,
        &options,
        |done, counts| progress.show(done, counts),
    )
    .await;
    progress.done();
    stack.stop().await;
    let seeded = seeded?;
    let counts = seeded.counts;
    println!(
        "seeded organisation {} in {:.0} s: {} clients, {} addresses, {} contracts ({} lines), \
         {} invoices ({} lines), {} payments",
        seeded.organisation,
        seeded.seconds,
        counts.clients,
        counts.clients,
        counts.contracts,
        counts.contract_lines,
        counts.invoices,
        counts.invoice_lines,
        counts.payments
    );
    println!("log in as {} / {}", seed::SEED_EMAIL, seed::SEED_PASSWORD);
    Ok(())
}

/// A progress bar on a terminal; a line every tenth elsewhere.
struct Progress {
    total: u64,
    started: Instant,
    terminal: bool,
    shown_tenths: u64,
}

impl Progress {
    fn new(total: u64) -> Self {
        Self {
            total,
            started: Instant::now(),
            terminal: std::io::stdout().is_terminal(),
            shown_tenths: 0,
        }
    }

    fn show(&mut self, done: u64, counts: &Counts) {
        let seconds = self.started.elapsed().as_secs_f64();
        let share = done as f64 / self.total.max(1) as f64;
        let line = format!(
            "{done:>9} / {} clients, {} contracts, {} invoices  {seconds:>5.0} s",
            self.total, counts.contracts, counts.invoices
        );
        if self.terminal {
            let width = 30;
            let filled = (share * width as f64) as usize;
            print!(
                "\r  [{}{}] {line}",
                "#".repeat(filled),
                " ".repeat(width - filled.min(width))
            );
            let _ = std::io::Write::flush(&mut std::io::stdout());
        } else {
            let tenths = (share * 10.0) as u64;
            if tenths > self.shown_tenths {
                self.shown_tenths = tenths;
                println!("  {line}");
            }
        }
    }

    fn done(&self) {
        if self.terminal {
            println!();
        }
    }
}

/// The development token signing key, generated into `.dev/` on first use.
fn dev_signing_key() -> anyhow::Result<secrecy::SecretString> {
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
    Ok(secrecy::SecretString::from(std::fs::read_to_string(
        key_path,
    )?))
}

/// A development secret kept in `path`, generated on first use: 32 random bytes in base64
/// (a vault key; long enough for an internal token too).
fn dev_secret(path: &str) -> anyhow::Result<secrecy::SecretString> {
    let path = Path::new(path);
    if !path.exists() {
        std::fs::create_dir_all(".dev")?;
        let secret = subgraph_kit::vault::VaultKey::generate();
        std::fs::write(path, secrecy::ExposeSecret::expose_secret(&secret))?;
        println!("generated a development secret in {}", path.display());
    }
    Ok(secrecy::SecretString::from(
        std::fs::read_to_string(path)?.trim().to_owned(),
    ))
}

/// The development mail key (engagement opens what core seals with its public half),
/// generated into `.dev/` on first use.
fn dev_mail_key() -> anyhow::Result<subgraph_kit::sealed::OpeningKey> {
    let key_path = Path::new(".dev/mail-opening-key.pem");
    if !key_path.exists() {
        std::fs::create_dir_all(".dev")?;
        let key = subgraph_kit::sealed::OpeningKey::generate();
        std::fs::write(
            key_path,
            secrecy::ExposeSecret::expose_secret(&key.to_pem()),
        )?;
        println!("generated a development mail key in {}", key_path.display());
    }
    let pem = secrecy::SecretString::from(std::fs::read_to_string(key_path)?);
    Ok(subgraph_kit::sealed::OpeningKey::from_pem(&pem)?)
}

/// Where development e-mail goes. A relay configured on this machine that does not answer
/// (no Mailpit or MailHog on the default port) is replaced by an in-process catcher writing
/// each message to `.dev/mail/`; a relay elsewhere is used as configured.
async fn dev_mail(
    email: &mut subgraph_engagement::config::EmailSettings,
) -> anyhow::Result<(Option<SmtpSink>, String)> {
    let local = matches!(email.smtp_host.as_str(), "127.0.0.1" | "localhost" | "::1");
    if !local || services::answers(&email.smtp_host, email.smtp_port) {
        return Ok((
            None,
            format!("SMTP relay {}:{}", email.smtp_host, email.smtp_port),
        ));
    }
    let folder = repo_root().join(".dev/mail");
    let catcher = SmtpSink::start_writing_to(folder)
        .await
        .context("starting the development mail catcher")?;
    let line = format!(
        ".dev/mail/*.eml (nothing answers on {}:{}, so a local catcher keeps every message)",
        email.smtp_host, email.smtp_port
    );
    email.smtp_host = "127.0.0.1".into();
    email.smtp_port = catcher.port;
    email.smtp_tls = subgraph_engagement::config::SmtpTls::None;
    Ok((Some(catcher), line))
}

/// Loads the demo organisation through the gateway, unless it is there; what to print.
async fn load_demo(stack: &DevStack) -> anyhow::Result<String> {
    let pool = sqlx::PgPool::connect(&stack.database("commercial")).await?;
    let core = sqlx::PgPool::connect(&stack.database("core")).await?;
    let started = std::time::Instant::now();
    let mailbox = demo::Mailbox {
        core: &core,
        key: &stack.mail_key,
    };
    let loaded = demo::load(&stack.gateway.url(), &pool, mailbox).await?;
    pool.close().await;
    core.close().await;
    Ok(match loaded {
        demo::Loaded::AlreadyThere => format!("{} (already loaded)", demo::DEMO_ORGANISATION),
        demo::Loaded::Created(summary) => format!(
            "{} loaded in {:.1} s: {} clients, {} contracts, {} invoices, {} payments, {} tasks, {} activities",
            demo::DEMO_ORGANISATION,
            started.elapsed().as_secs_f64(),
            summary.clients,
            summary.contracts,
            summary.invoices,
            summary.payments,
            summary.tasks,
            summary.activities
        ),
    })
}
