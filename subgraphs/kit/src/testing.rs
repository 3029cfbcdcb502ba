//! Test helpers for every tier: a fresh database per test, a typed GraphQL client, and
//! bounded waiting. Compiled into the crate (not behind a feature) so the subgraphs' API tests
//! and the end-to-end crate share one copy.

use std::{str::FromStr, time::Duration};

use serde_json::{json, Value};
use sqlx::{
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
    Connection, PgConnection, PgPool,
};
use uuid::Uuid;

/// The server tests create their databases on: `TEST_DATABASE_URL`, else the local default.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database created for one test, migrated, and dropped when the value is dropped.
pub struct TestDatabase {
    pub pool: PgPool,
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// Creates `crm_test_<uuid>` and applies `migrator`.
    ///
    /// # Panics
    /// When PostgreSQL is unreachable: the message says how to point tests at a server.
    pub async fn create(migrator: &Migrator) -> Self {
        let server = server_url();
        let name = format!("crm_test_{}", Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&server).await.unwrap_or_else(|err| {
            panic!("tests need PostgreSQL at {server} (set TEST_DATABASE_URL): {err}")
        });
        sqlx::query(&format!("create database {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|err| panic!("cannot create test database {name}: {err}"));
        let options = PgConnectOptions::from_str(&server)
            .unwrap_or_else(|err| panic!("bad TEST_DATABASE_URL: {err}"))
            .database(&name);
        let pool = PgPoolOptions::new()
            .max_connections(20)
            .connect_with(options)
            .await
            .unwrap_or_else(|err| panic!("cannot connect to {name}: {err}"));
        migrator
            .run(&pool)
            .await
            .unwrap_or_else(|err| panic!("migrations failed on {name}: {err}"));
        let url = match server.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => server.clone(),
        };
        Self { pool, name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let server = server_url();
        // Drop can't await, and the test's runtime is blocked here (its tasks still hold pool
        // connections): a thread of its own drops the database, `with (force)` closing them.
        let dropped = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&server).await {
                    let _ = sqlx::query(&format!("drop database if exists {name} with (force)"))
                        .execute(&mut admin)
                        .await;
                }
            });
        })
        .join();
        drop(dropped);
    }
}

/// A GraphQL response, as tests look at it.
#[derive(Debug, Clone)]
pub struct GqlResponse {
    pub status: u16,
    pub body: Value,
}

impl GqlResponse {
    /// `data`, after asserting there were no errors.
    ///
    /// # Panics
    /// When the response carries errors.
    #[track_caller]
    pub fn data(&self) -> &Value {
        assert!(
            self.errors().is_empty(),
            "expected no errors, got status {}: {}",
            self.status,
            self.body
        );
        &self.body["data"]
    }

    pub fn errors(&self) -> Vec<Value> {
        self.body["errors"].as_array().cloned().unwrap_or_default()
    }

    /// The `extensions.code` of the first error.
    ///
    /// # Panics
    /// When the response carries no error.
    #[track_caller]
    pub fn error_code(&self) -> String {
        let errors = self.errors();
        let first = errors
            .first()
            .unwrap_or_else(|| panic!("expected an error, got {}", self.body));
        first["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("error without code: {first}"))
            .to_owned()
    }
}

/// Posts GraphQL operations to one endpoint, with or without a bearer token.
#[derive(Debug, Clone)]
pub struct GraphqlClient {
    pub http: reqwest::Client,
    pub url: String,
    pub token: Option<String>,
}

impl GraphqlClient {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            http: reqwest::Client::new(),
            url: url.into(),
            token: None,
        }
    }

    /// The same client acting with `token`.
    pub fn with_token(&self, token: impl Into<String>) -> Self {
        Self {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    /// Runs `query` with `variables`.
    ///
    /// # Panics
    /// When the server cannot be reached or answers something that is not JSON.
    pub async fn run(&self, query: &str, variables: Value) -> GqlResponse {
        self.run_with_headers(query, variables, &[]).await
    }

    /// Runs `query` with extra request headers.
    ///
    /// # Panics
    /// When the server cannot be reached or answers something that is not JSON.
    pub async fn run_with_headers(
        &self,
        query: &str,
        variables: Value,
        headers: &[(&str, &str)],
    ) -> GqlResponse {
        let mut request = self
            .http
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|err| panic!("POST {} failed: {err}", self.url));
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or_else(|err| {
            panic!(
                "non-JSON answer ({status}) from {}: {err}: {text}",
                self.url
            )
        });
        GqlResponse { status, body }
    }
}

/// Polls `check` until it yields a value or `timeout` passes. Tests wait on conditions, never
/// on fixed sleeps.
pub async fn wait_for<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = Duration::from_millis(10);
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(200));
    }
}

/// The NATS server tests use: `TEST_NATS_URL`, else the local default.
pub fn nats_url() -> String {
    std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// Event settings isolated to one test: its own subject prefix and stream on `nats_url`.
pub fn isolated_events(nats_url: &str) -> crate::events::EventsSettings {
    let id = Uuid::new_v4().simple().to_string();
    crate::events::EventsSettings {
        subject_prefix: format!("test_{id}.crm.events"),
        live_prefix: format!("test_{id}.crm.live"),
        stream: format!("TEST_{}", id.to_uppercase()),
        ..crate::events::EventsSettings::new(nats_url)
    }
}

/// Deletes a test's JetStream stream (on drop paths: blocking, on a thread of its own).
pub fn delete_stream_blocking(nats_url: &str, stream: &str) {
    let (url, stream) = (nats_url.to_owned(), stream.to_owned());
    let joined = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async move {
            let connect = async_nats::ConnectOptions::new()
                .connection_timeout(Duration::from_secs(1))
                .connect(url.as_str());
            if let Ok(Ok(client)) = tokio::time::timeout(Duration::from_secs(2), connect).await {
                let js = async_nats::jetstream::new(client);
                let _ =
                    tokio::time::timeout(Duration::from_secs(2), js.delete_stream(&stream)).await;
            }
        });
    })
    .join();
    drop(joined);
}

/// A `nats-server -js` of a test's own, on a free port, that the test can stop and start
/// again (same port, same storage) to check what happens while NATS is away.
pub struct NatsServer {
    pub port: u16,
    dir: std::path::PathBuf,
    child: Option<std::process::Child>,
}

impl NatsServer {
    /// Starts one and waits until it accepts connections.
    ///
    /// # Panics
    /// When `nats-server` is not installed or does not start.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|err| panic!("no free port: {err}"));
        let dir = std::env::temp_dir().join(format!("nats-test-{}", Uuid::new_v4().simple()));
        let mut server = Self {
            port,
            dir,
            child: None,
        };
        server.resume().await;
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
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
        let child = std::process::Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string()])
            .arg("-sd")
            .arg(&self.dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("this test needs nats-server on the PATH: {err}"));
        self.child = Some(child);
        let address = format!("127.0.0.1:{}", self.port);
        let up = wait_for(Duration::from_secs(10), || {
            let address = address.clone();
            async move { tokio::net::TcpStream::connect(address).await.ok().map(drop) }
        })
        .await;
        assert!(
            up.is_some(),
            "nats-server did not start on port {}",
            self.port
        );
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A message an [`SmtpSink`] accepted.
#[derive(Debug, Clone)]
pub struct SmtpMessage {
    pub from: String,
    pub to: Vec<String>,
    /// The raw DATA (headers and body).
    pub data: String,
}

/// A local SMTP server for tests: speaks enough SMTP (EHLO, MAIL, RCPT, DATA, RSET, NOOP,
/// QUIT) for a real client to deliver to it, keeps what it receives, and can refuse the next
/// deliveries with a temporary error.
pub struct SmtpSink {
    pub port: u16,
    messages: std::sync::Arc<std::sync::Mutex<Vec<SmtpMessage>>>,
    refuse: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    /// Starts on a free port.
    ///
    /// # Panics
    /// When no port can be bound.
    pub async fn start() -> Self {
        use std::sync::{atomic::AtomicUsize, Arc, Mutex};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|err| panic!("cannot bind the SMTP sink: {err}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let messages: Arc<Mutex<Vec<SmtpMessage>>> = Arc::default();
        let refuse: Arc<AtomicUsize> = Arc::default();
        let (m, r) = (messages.clone(), refuse.clone());
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(smtp_session(socket, m.clone(), r.clone()));
            }
        });
        Self {
            port,
            messages,
            refuse,
            task,
        }
    }

    /// Everything delivered so far.
    pub fn messages(&self) -> Vec<SmtpMessage> {
        self.messages.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Answers the next `n` deliveries with `451` (try again later).
    pub fn refuse_next(&self, n: usize) {
        self.refuse.store(n, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn smtp_session(
    socket: tokio::net::TcpStream,
    messages: std::sync::Arc<std::sync::Mutex<Vec<SmtpMessage>>>,
    refuse: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("HELO")
            || upper.starts_with("RSET")
            || upper.starts_with("NOOP")
        {
            if upper.starts_with("RSET") {
                from.clear();
                to.clear();
            }
            b"250 OK\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = line[10..].trim().trim_matches(['<', '>']).to_owned();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
            b"250 OK\r\n"
        } else if upper.starts_with("DATA") {
            if write.write_all(b"354 go ahead\r\n").await.is_err() {
                return;
            }
            let mut data = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                data.push('\n');
            }
            let refused = refuse
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if refused {
                b"451 try again later\r\n"
            } else {
                if let Ok(mut stored) = messages.lock() {
                    stored.push(SmtpMessage {
                        from: from.clone(),
                        to: std::mem::take(&mut to),
                        data,
                    });
                }
                b"250 OK queued\r\n"
            }
        } else if upper.starts_with("QUIT") {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"502 not implemented\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}
