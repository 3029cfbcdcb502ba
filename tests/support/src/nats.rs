//! NATS for tests: per-test subjects and stream, a server of a test's own to stop and restart,
//! and publishing envelopes as another subgraph would.

use std::time::Duration;

use async_nats::{header::HeaderMap, jetstream};
use subgraph_kit::events::{ensure_stream, Envelope, EventsSettings};
use uuid::Uuid;

/// The NATS server tests use: `TEST_NATS_URL`, else the local default.
pub fn nats_url() -> String {
    std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// Event settings isolated to one test: its own subject prefix and stream on `nats_url`.
pub fn isolated_events(nats_url: &str) -> subgraph_kit::events::EventsSettings {
    let id = Uuid::new_v4().simple().to_string();
    subgraph_kit::events::EventsSettings {
        subject_prefix: format!("test_{id}.crm.events"),
        live_prefix: format!("test_{id}.crm.live"),
        stream: format!("TEST_{}", id.to_uppercase()),
        ..subgraph_kit::events::EventsSettings::new(nats_url)
    }
}

/// Deletes a test's JetStream stream (on drop paths: blocking, on a thread of its own).
pub fn delete_stream_blocking(nats_url: &str, stream: &str) {
    let (url, stream) = (nats_url.to_owned(), stream.to_owned());
    crate::block_on_thread(async move {
        let connect = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(1))
            .connect(url.as_str());
        if let Ok(Ok(client)) = tokio::time::timeout(Duration::from_secs(2), connect).await {
            let js = async_nats::jetstream::new(client);
            let _ = tokio::time::timeout(Duration::from_secs(2), js.delete_stream(&stream)).await;
        }
    });
}

/// A `nats-server -js` of a test's own, on a free port, that the test can stop and start
/// again (same port, same storage) to check what happens while NATS is away.
pub struct NatsServer {
    pub port: u16,
    dir: std::path::PathBuf,
    child: Option<std::process::Child>,
    /// The users of a server started with [`NatsServer::secured`]: service → password.
    passwords: Vec<(String, String)>,
    /// Extra command-line arguments (TLS).
    args: Vec<std::ffi::OsString>,
}

impl NatsServer {
    /// Starts one and waits until it accepts connections.
    ///
    /// # Panics
    /// When `nats-server` is not installed or does not start.
    pub async fn start() -> Self {
        let mut server = Self::start_stopped();
        server.resume().await;
        server
    }

    /// One configured as a deployment's (`config`: the generated `nats.conf`, whose users
    /// are `services` and the operator), each with a password of its own; no anonymous access.
    ///
    /// # Panics
    /// When `nats-server` is not installed or does not start.
    pub async fn secured(config: &str, services: &[&str]) -> Self {
        let mut server = Self::start_stopped();
        std::fs::create_dir_all(&server.dir)
            .unwrap_or_else(|err| panic!("cannot create {}: {err}", server.dir.display()));
        std::fs::write(server.dir.join("nats.conf"), config)
            .unwrap_or_else(|err| panic!("cannot write the NATS configuration: {err}"));
        server.passwords = services
            .iter()
            .copied()
            .chain([subgraph_kit::bus::OPERATOR])
            .map(|s| (s.to_owned(), Uuid::new_v4().simple().to_string()))
            .collect();
        server.resume().await;
        server
    }

    /// One that requires TLS with the certificate and key given (PEM files).
    ///
    /// # Panics
    /// When `nats-server` is not installed or does not start.
    pub async fn with_tls(cert: &std::path::Path, key: &std::path::Path) -> Self {
        let mut server = Self::start_stopped();
        server.args = vec![
            "--tls".into(),
            "--tlscert".into(),
            cert.into(),
            "--tlskey".into(),
            key.into(),
        ];
        server.resume().await;
        server
    }

    /// Not started yet: a free port and a storage directory.
    fn start_stopped() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|err| panic!("no free port: {err}"));
        let dir = std::env::temp_dir().join(format!("nats-test-{}", Uuid::new_v4().simple()));
        Self {
            port,
            dir,
            child: None,
            passwords: Vec::new(),
            args: Vec::new(),
        }
    }

    /// A client connected as `user` (a service, or [`subgraph_kit::bus::OPERATOR`]).
    ///
    /// # Panics
    /// When the server has no such user or refuses the connection.
    pub async fn client_as(&self, user: &str) -> async_nats::Client {
        subgraph_kit::events::connect(&self.events_for(user), user)
            .await
            .unwrap_or_else(|err| panic!("cannot connect as {user}: {err:#}"))
    }

    /// Events settings for `service` on this server: the deployment's stream and subjects,
    /// connecting as its user.
    ///
    /// # Panics
    /// When the server has no such user.
    pub fn events_for(&self, service: &str) -> EventsSettings {
        let password = self
            .passwords
            .iter()
            .find(|(s, _)| s == service)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| panic!("the NATS server has no user {service}"));
        EventsSettings {
            nats_user: Some(service.to_owned()),
            nats_password: Some(password.into()),
            ..EventsSettings::new(&self.url())
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Replaces the configuration of a server started with [`NatsServer::secured`] and has
    /// it reloaded (SIGHUP, as an operator would): permissions change for connected clients.
    ///
    /// # Panics
    /// When the server is not running or the signal cannot be sent.
    pub fn reload(&self, config: &str) {
        std::fs::write(self.dir.join("nats.conf"), config)
            .unwrap_or_else(|err| panic!("cannot write the NATS configuration: {err}"));
        let pid = self
            .child
            .as_ref()
            .map(std::process::Child::id)
            .unwrap_or_else(|| panic!("the NATS server is not running"));
        let status = std::process::Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap_or_else(|err| panic!("cannot signal nats-server: {err}"));
        assert!(status.success(), "kill -HUP {pid} failed");
    }

    /// Stops the server (as a crash would: no goodbye to clients).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and storage.
    ///
    /// # Panics
    /// When `nats-server` is not installed or does not start.
    pub async fn resume(&mut self) {
        let mut command = std::process::Command::new("nats-server");
        if self.passwords.is_empty() {
            command.arg("-sd").arg(&self.dir);
        } else {
            // The configuration names the storage (so that it can be reloaded).
            command.arg("-c").arg(self.dir.join("nats.conf")).env(
                subgraph_kit::bus::STORE_DIR_VARIABLE,
                format!("\"{}\"", self.dir.display()),
            );
            for (service, password) in &self.passwords {
                // Quoted: nats-server parses the value, and would read digits as a number.
                command.env(
                    subgraph_kit::bus::password_variable(service),
                    format!("\"{password}\""),
                );
            }
        }
        std::fs::create_dir_all(&self.dir)
            .unwrap_or_else(|err| panic!("cannot create {}: {err}", self.dir.display()));
        let log_path = self.dir.join("nats-server.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap_or_else(|err| panic!("cannot write {}: {err}", log_path.display()));
        let child = command
            .args(&self.args)
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| panic!("this test needs nats-server on the PATH: {err}"));
        self.child = Some(child);
        let address = format!("127.0.0.1:{}", self.port);
        let up = crate::wait::wait_for(Duration::from_secs(10), || {
            let address = address.clone();
            async move { tokio::net::TcpStream::connect(address).await.ok().map(drop) }
        })
        .await;
        assert!(
            up.is_some(),
            "nats-server did not start on port {}:\n{}",
            self.port,
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Publishes `event` on `events`' stream under a fresh message id (so that JetStream's dedupe
/// window does not hide a repeat), as the subgraph that owns it would.
///
/// # Panics
/// When NATS is unreachable.
pub async fn publish(events: &EventsSettings, event: &Envelope) {
    let client = async_nats::connect(events.nats_url.as_str())
        .await
        .unwrap_or_else(|err| panic!("cannot reach NATS at {}: {err}", events.nats_url));
    let js = jetstream::new(client);
    ensure_stream(&js, events)
        .await
        .unwrap_or_else(|err| panic!("cannot create the test stream: {err:#}"));
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Msg-Id", Uuid::new_v4().to_string().as_str());
    let body = serde_json::to_vec(event).unwrap_or_default();
    js.publish_with_headers(events.subject(&event.event_type), headers, body.into())
        .await
        .unwrap_or_else(|err| panic!("cannot publish: {err}"))
        .await
        .unwrap_or_else(|err| panic!("the stream did not acknowledge: {err}"));
}
