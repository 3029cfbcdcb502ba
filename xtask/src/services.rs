//! Finding, or starting, the services the stack needs on a developer's machine: PostgreSQL
//! and NATS with JetStream. When neither is reachable nor startable, the error says exactly
//! what to do.

use std::{net::TcpStream, process::Command, time::Duration};

use anyhow::{bail, Context};

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

/// Drops the development databases (`--reset`): the next start creates and migrates them
/// empty.
pub(crate) async fn drop_databases(server_url: &str, names: &[String]) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut connection = sqlx::PgConnection::connect(server_url)
        .await
        .with_context(|| format!("cannot connect to {server_url}"))?;
    for name in names {
        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut connection)
            .await
            .with_context(|| format!("cannot drop database {name}"))?;
    }
    Ok(())
}

/// Whether something accepts connections at `host:port`.
pub(crate) fn answers(host: &str, port: u16) -> bool {
    reachable(&format!("{host}:{port}"))
}
