//! Finding, or starting, the services the stack needs on a developer's machine: PostgreSQL
//! and NATS with JetStream. When neither is reachable nor startable, the error says exactly
//! what to do.

use std::{net::TcpStream, process::Command, time::Duration};

use anyhow::{bail, Context};
use serde_json::json;

/// The PostgreSQL server: `CRM_POSTGRES_URL`, default the local trust-auth superuser.
pub(crate) fn postgres_url() -> String {
    std::env::var("CRM_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `CRM_NATS_ADDR`, default 127.0.0.1:4222.
pub(crate) fn nats_addr() -> String {
    std::env::var("CRM_NATS_ADDR").unwrap_or_else(|_| "127.0.0.1:4222".into())
}

/// The NATS URL the stack uses.
pub(crate) fn nats_url() -> String {
    format!("nats://{}", nats_addr())
}

/// The URL of database `name` on the server of `server_url`.
pub(crate) fn database_url(server_url: &str, name: &str) -> String {
    match server_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => format!("{server_url}/{name}"),
    }
}

fn host_port(url: &str) -> String {
    let after_scheme = url.split("://").nth(1).unwrap_or(url);
    let after_user = after_scheme.rsplit('@').next().unwrap_or(after_scheme);
    after_user
        .split('/')
        .next()
        .unwrap_or("127.0.0.1:5432")
        .to_owned()
}

fn reachable(addr: &str) -> bool {
    use std::net::ToSocketAddrs;
    addr.to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok())
}

fn wait_reachable(addr: &str, seconds: u64) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if reachable(addr) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Returns the server URL once PostgreSQL answers, starting the machine's cluster if needed.
pub(crate) fn ensure_postgres() -> anyhow::Result<String> {
    let url = postgres_url();
    let addr = host_port(&url);
    if reachable(&addr) {
        return Ok(url);
    }
    if have("pg_ctlcluster") {
        let versions = std::fs::read_dir("/etc/postgresql")
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for version in versions {
            eprintln!("PostgreSQL is not answering on {addr}: starting cluster {version}/main");
            let _ = Command::new("pg_ctlcluster")
                .args(["--skip-systemctl-redirect", &version, "main", "start"])
                .status();
            if wait_reachable(&addr, 20) {
                return Ok(url);
            }
        }
    }
    bail!(
        "PostgreSQL is not reachable at {addr}.\n\
         Start it, for instance:\n  \
         - with Docker: docker compose -f compose/docker-compose.yml up -d postgres nats\n  \
         - on Debian/Ubuntu: sudo apt-get install postgresql && sudo pg_ctlcluster 15 main start\n  \
         - on macOS: brew install postgresql@16 && brew services start postgresql@16\n\
         or point CRM_POSTGRES_URL at a server where the user may create databases."
    )
}

/// A service this command started; stopped when the command ends.
pub(crate) struct StartedService(std::process::Child);

impl Drop for StartedService {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Returns once NATS answers, starting a local `nats-server -js` if one is installed (that
/// one lives as long as the returned guard).
pub(crate) fn ensure_nats() -> anyhow::Result<Option<StartedService>> {
    let addr = nats_addr();
    if reachable(&addr) {
        return Ok(None);
    }
    if have("nats-server") {
        let (host, port) = addr.rsplit_once(':').unwrap_or(("127.0.0.1", "4222"));
        std::fs::create_dir_all(".dev/nats")?;
        let log = std::fs::File::create(".dev/nats.log")?;
        eprintln!(
            "NATS is not answering on {addr}: starting nats-server with JetStream (.dev/nats.log)"
        );
        let child = Command::new("nats-server")
            .args(["-js", "-a", host, "-p", port, "-sd", ".dev/nats"])
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("cannot start nats-server")?;
        let started = StartedService(child);
        if wait_reachable(&addr, 10) {
            return Ok(Some(started));
        }
    }
    bail!(
        "NATS (with JetStream) is not reachable at {addr}.\n\
         Start it, for instance:\n  \
         - with Docker: docker compose -f compose/docker-compose.yml up -d nats\n  \
         - with a local binary: nats-server -js (https://docs.nats.io/running-a-nats-service/introduction/installation)\n\
         or point CRM_NATS_ADDR at a running server."
    )
}

pub(crate) const DEMO_EMAIL: &str = "demo@crm.example";
pub(crate) const DEMO_PASSWORD: &str = "demo-password-2026";

/// Signs up the demo owner and creates a few clients, unless the demo user exists.
pub(crate) async fn load_demo_data(core_url: &str) -> anyhow::Result<()> {
    let client = crm_test_support::GraphqlClient::new(core_url);
    let login = client
        .run(
            "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }",
            json!({"e": DEMO_EMAIL, "p": DEMO_PASSWORD}),
        )
        .await;
    if login.errors().is_empty() {
        println!("demo data already loaded");
        return Ok(());
    }
    let signed_up = client
        .run(
            "mutation($input: SignUpInput!) { signUp(input: $input) { token } }",
            json!({"input": {
                "email": DEMO_EMAIL, "password": DEMO_PASSWORD,
                "firstName": "Camille", "lastName": "Martin", "organisationName": "Démo Courtage"
            }}),
        )
        .await;
    let token = signed_up.body["data"]["signUp"]["token"]
        .as_str()
        .with_context(|| format!("demo sign-up failed: {}", signed_up.body))?
        .to_owned();
    let client = client.with_token(token);
    let societe = client
        .run(
            "mutation($input: SocieteInputObject!) { createSociete(input: $input) { id } }",
            json!({"input": {"name": "Démo Courtage SAS", "siren": "732829320", "siret": "73282932000074",
                   "vatNumber": "FR44732829320",
                   "address": {"line1": "12 rue de la Paix", "postalCode": "75002", "city": "Paris"}}}),
        )
        .await;
    let societe_id = societe.body["data"]["createSociete"]["id"].clone();
    let clients = [
        json!({"kind": "PERSON", "name": "Durand", "firstName": "Léa", "email": "lea.durand@example.fr",
               "phone": "06 12 34 56 78", "societeId": societe_id,
               "addresses": [{"kind": "BILLING", "line1": "3 place Bellecour", "postalCode": "69002", "city": "Lyon"}]}),
        json!({"kind": "COMPANY", "name": "Boulangerie Petit", "siren": "552100554", "email": "contact@boulangerie-petit.example",
               "phone": "04 78 00 00 00", "status": "PROSPECT",
               "addresses": [{"kind": "BILLING", "line1": "8 rue Mercière", "postalCode": "69002", "city": "Lyon"}]}),
        json!({"kind": "PERSON", "name": "Bernard", "firstName": "Hugo", "email": "hugo.bernard@example.fr",
               "phone": "+33 7 11 22 33 44"}),
    ];
    for input in clients {
        let created = client
            .run(
                "mutation($input: CreateClientInput!) { createClient(input: $input) { id } }",
                json!({"input": input}),
            )
            .await;
        if !created.errors().is_empty() {
            bail!("demo client creation failed: {}", created.body);
        }
    }
    println!("demo data loaded");
    Ok(())
}
