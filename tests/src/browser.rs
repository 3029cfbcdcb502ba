//! A real browser for the pages the gateway serves: headless Chromium driven over the
//! DevTools protocol (a WebSocket speaking JSON), with no driver binary in between.
//!
//! The browser reaches loopback only: every other host goes to a proxy that does not exist,
//! so a page that needs the internet fails here as it would behind a firewall, and
//! [`Browser::requested_urls`] lists everything the page asked for.
//!
//! Chromium is found at `CHROMIUM_BIN`, else as `chromium`, `chromium-browser` or
//! `google-chrome` on the `PATH` (Debian: `apt-get install chromium`; `.ci/run` installs it).

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::{anyhow, bail, Context};
use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a page may take to reach a state [`Browser::wait_for`] waits for.
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// One headless Chromium with one page open; killed (and its profile removed) on drop.
pub struct Browser {
    child: Child,
    profile: PathBuf,
    socket: Socket,
    session: String,
    next_id: u64,
    /// Protocol events received so far (network requests, console messages, exceptions).
    events: Vec<Value>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// The Chromium binary, or why there is none.
pub fn chromium_binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM_BIN") {
        return Ok(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    bail!(
        "Chromium is not installed: `apt-get install chromium` (Debian), or set CHROMIUM_BIN \
         to a Chromium or Chrome binary"
    )
}

impl Browser {
    /// Starts Chromium with a fresh profile and opens a blank page.
    pub async fn launch() -> anyhow::Result<Self> {
        let binary = chromium_binary()?;
        let profile =
            std::env::temp_dir().join(format!("crm-chromium-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&profile)?;
        let mut child = Command::new(&binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                // Loopback is never proxied; everything else meets a closed port.
                "--proxy-server=http://127.0.0.1:9",
                "--window-size=1400,900",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let endpoint = match devtools_endpoint(&profile, &mut child).await {
            Ok(endpoint) => endpoint,
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(err);
            }
        };
        let (socket, _) = tokio_tungstenite::connect_async(endpoint.as_str())
            .await
            .context("cannot reach Chromium's DevTools endpoint")?;
        let mut browser = Self {
            child,
            profile,
            socket,
            session: String::new(),
            next_id: 0,
            events: Vec::new(),
        };
        let target = browser
            .browser_call("Target.createTarget", json!({"url": "about:blank"}))
            .await?;
        let attached = browser
            .browser_call(
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await?;
        browser.session = attached["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("no session in {attached}"))?
            .to_owned();
        for domain in ["Page.enable", "Network.enable", "Runtime.enable"] {
            browser.call(domain, json!({})).await?;
        }
        Ok(browser)
    }

    /// A DevTools command to the page; its result.
    pub async fn call(&mut self, method: &str, params: Value) -> anyhow::Result<Value> {
        let session = self.session.clone();
        self.send(method, params, Some(session)).await
    }

    async fn browser_call(&mut self, method: &str, params: Value) -> anyhow::Result<Value> {
        self.send(method, params, None).await
    }

    async fn send(
        &mut self,
        method: &str,
        params: Value,
        session: Option<String>,
    ) -> anyhow::Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = Value::String(session);
        }
        self.socket.send(Message::text(message.to_string())).await?;
        loop {
            let frame = tokio::time::timeout(PAGE_TIMEOUT, self.socket.next())
                .await
                .with_context(|| format!("Chromium did not answer {method}"))?
                .ok_or_else(|| anyhow!("Chromium closed the DevTools connection"))??;
            let Message::Text(text) = frame else { continue };
            let message: Value = serde_json::from_str(&text)?;
            if message["id"] == id {
                if let Some(error) = message.get("error") {
                    bail!("{method} failed: {error}");
                }
                return Ok(message["result"].clone());
            }
            if message.get("method").is_some() {
                self.events.push(message);
            }
        }
    }

    /// Opens `url` in the page.
    pub async fn navigate(&mut self, url: &str) -> anyhow::Result<()> {
        let result = self.call("Page.navigate", json!({"url": url})).await?;
        if let Some(error) = result.get("errorText") {
            bail!("cannot open {url}: {error}");
        }
        Ok(())
    }

    /// Evaluates `expression` in the page (promises awaited); its value as JSON.
    pub async fn evaluate(&mut self, expression: &str) -> anyhow::Result<Value> {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await?;
        if let Some(exception) = result.get("exceptionDetails") {
            bail!("`{expression}` threw: {exception}");
        }
        Ok(result["result"]["value"].clone())
    }

    /// Evaluates `expression` until it is truthy; that value. Fails after 30 s, saying `what`
    /// was awaited.
    pub async fn wait_for(&mut self, expression: &str, what: &str) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + PAGE_TIMEOUT;
        loop {
            let value = self.evaluate(expression).await?;
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return Ok(value);
            }
            if tokio::time::Instant::now() >= deadline {
                bail!("timed out waiting for {what} (`{expression}` stayed {value})");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the first element matching `selector`.
    pub async fn click(&mut self, selector: &str) -> anyhow::Result<()> {
        self.on_element(selector, "element.click()").await
    }

    /// Gives the keyboard focus to the first element matching `selector`.
    pub async fn focus(&mut self, selector: &str) -> anyhow::Result<()> {
        self.on_element(selector, "element.focus()").await
    }

    async fn on_element(&mut self, selector: &str, action: &str) -> anyhow::Result<()> {
        let selector_json = serde_json::to_string(selector)?;
        let done = self
            .evaluate(&format!(
                "(() => {{ const element = document.querySelector({selector_json}); \
                 if (!element) return false; {action}; return true; }})()"
            ))
            .await?;
        if done != Value::Bool(true) {
            bail!("no element matches {selector}");
        }
        Ok(())
    }

    /// Empties the focused editor: selects everything (Ctrl+A), then deletes it.
    pub async fn clear(&mut self) -> anyhow::Result<()> {
        self.key("a", "KeyA", 65, 2, "selectAll").await?;
        self.key("Backspace", "Backspace", 8, 0, "deleteBackward")
            .await
    }

    /// Presses and releases a key (`modifiers`: 2 for Ctrl), running the editing `command`.
    async fn key(
        &mut self,
        key: &str,
        code: &str,
        key_code: u32,
        modifiers: u32,
        command: &str,
    ) -> anyhow::Result<()> {
        let event = json!({
            "key": key, "code": code, "windowsVirtualKeyCode": key_code, "modifiers": modifiers
        });
        let mut down = event.clone();
        down["type"] = json!("keyDown");
        down["commands"] = json!([command]);
        self.call("Input.dispatchKeyEvent", down).await?;
        let mut up = event;
        up["type"] = json!("keyUp");
        self.call("Input.dispatchKeyEvent", up).await?;
        Ok(())
    }

    /// Types `text` into the focused element, as an input method would (so editors insert it
    /// as it is: no brackets closed or selections surrounded).
    pub async fn insert_text(&mut self, text: &str) -> anyhow::Result<()> {
        self.call("Input.insertText", json!({"text": text})).await?;
        Ok(())
    }

    /// Writes a PNG of the page to `path`.
    pub async fn screenshot(&mut self, path: &Path) -> anyhow::Result<()> {
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await?;
        let data = shot["data"]
            .as_str()
            .ok_or_else(|| anyhow!("no screenshot data"))?;
        let png = base64::engine::general_purpose::STANDARD.decode(data)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Every URL the page requested so far (documents, scripts, workers, fetches, data URIs).
    pub fn requested_urls(&self) -> Vec<String> {
        self.events_named("Network.requestWillBeSent")
            .filter_map(|params| params["request"]["url"].as_str().map(str::to_owned))
            .collect()
    }

    /// Uncaught exceptions and `console.error` messages so far.
    pub fn page_errors(&self) -> Vec<String> {
        let exceptions = self
            .events_named("Runtime.exceptionThrown")
            .map(|params| params["exceptionDetails"].to_string());
        let console = self
            .events_named("Runtime.consoleAPICalled")
            .filter(|params| params["type"] == "error")
            .map(|params| params["args"].to_string());
        exceptions.chain(console).collect()
    }

    fn events_named<'a>(&'a self, method: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.events
            .iter()
            .filter(move |event| event["method"] == method)
            .map(|event| &event["params"])
    }
}

/// Chromium writes its DevTools port and path to `DevToolsActivePort` in the profile once it
/// listens.
async fn devtools_endpoint(profile: &Path, child: &mut Child) -> anyhow::Result<String> {
    let file = profile.join("DevToolsActivePort");
    let deadline = tokio::time::Instant::now() + PAGE_TIMEOUT;
    loop {
        if let Ok(content) = std::fs::read_to_string(&file) {
            let mut lines = content.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                return Ok(format!("ws://127.0.0.1:{port}{path}"));
            }
        }
        if let Some(status) = child.try_wait()? {
            bail!("Chromium exited at start ({status})");
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("Chromium did not open its DevTools endpoint");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
