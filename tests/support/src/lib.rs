//! What the CRM's tests share, and only its tests (a dev-dependency: no service links it):
//! a fresh database per test, a GraphQL client, bounded waiting, NATS and SMTP helpers, a fake Maileva, the
//! secrets core's account e-mails carry, and the harness that starts core with sessions for
//! API tests and the end-to-end stack alike.

pub mod db;
pub mod graphql;
pub mod harness;
pub mod mailbox;
pub mod maileva;
pub mod nats;
pub mod smtp;
pub mod wait;

pub use db::TestDatabase;
pub use graphql::{GqlResponse, GraphqlClient};
pub use harness::{Harness, Session, PASSWORD};
pub use wait::wait_for;

/// The repository root (this crate lives in `tests/support/`).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default()
}

/// Runs `work` to completion on a runtime of its own, on a thread of its own: for clean-up in
/// `Drop`, which cannot await and runs while the test's own runtime is blocked.
pub(crate) fn block_on_thread(work: impl std::future::Future<Output = ()> + Send + 'static) {
    let joined = std::thread::spawn(move || {
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            runtime.block_on(work);
        }
    })
    .join();
    drop(joined);
}
