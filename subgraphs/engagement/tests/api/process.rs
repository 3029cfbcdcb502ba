//! The engagement binary as a child process, for tests of crashes: started over a test's
//! database, stream and SMTP sink, and killed with SIGKILL.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
};

use async_nats::jetstream;
use crm_test_support::wait_for;

use crate::helpers::TestApps;

/// Whether, within `timeout`, engagement's consumer has nothing pending or unacknowledged on
/// the test's stream: everything delivered is handled, nothing more will come.
pub async fn settled(apps: &TestApps, timeout: std::time::Duration) -> bool {
    let js = jetstream::new(async_nats::connect(&apps.events.nats_url).await.unwrap());
    wait_for(timeout, || async {
        let mut consumer: jetstream::consumer::PullConsumer = js
            .get_stream(&apps.events.stream)
            .await
            .ok()?
            .get_consumer("engagement-notifications")
            .await
            .ok()?;
        let info = consumer.info().await.ok()?;
        (info.num_pending == 0 && info.num_ack_pending == 0).then_some(())
    })
    .await
    .is_some()
}

/// The engagement binary running as a child process over the test's database, stream and
/// SMTP sink; killed when dropped.
pub struct EngagementProcess {
    child: Child,
}

impl EngagementProcess {
    pub fn start(apps: &TestApps, log: &Path) -> Self {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_subgraph-engagement"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info,subgraph_kit::consumer=debug")
            .env("ENGAGEMENT__HTTP__HOST", "127.0.0.1")
            .env("ENGAGEMENT__HTTP__PORT", "0")
            .env("ENGAGEMENT__DATABASE__URL", &apps.db.url)
            .env("ENGAGEMENT__AUTH__JWKS_URL", &apps.jwks_url)
            .env("ENGAGEMENT__EVENTS__NATS_URL", &apps.events.nats_url)
            .env(
                "ENGAGEMENT__EVENTS__SUBJECT_PREFIX",
                &apps.events.subject_prefix,
            )
            .env("ENGAGEMENT__EVENTS__STREAM", &apps.events.stream)
            .env("ENGAGEMENT__EVENTS__LIVE_PREFIX", &apps.events.live_prefix)
            // A crashed instance's event comes back after this wait.
            .env("ENGAGEMENT__EVENTS__ACK_WAIT_SECONDS", "2")
            .env("ENGAGEMENT__EMAIL__SMTP_PORT", apps.smtp.port.to_string())
            .env("ENGAGEMENT__EMAIL__RETRY_DELAY_SECONDS", "0")
            .env(
                "ENGAGEMENT__EMAIL__OPENING_KEY_PEM",
                secrecy::ExposeSecret::expose_secret(&apps.mail_key.to_pem()),
            )
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        Self { child }
    }

    /// SIGKILL: no destructor, no rollback, no goodbye to NATS or PostgreSQL.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for EngagementProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
