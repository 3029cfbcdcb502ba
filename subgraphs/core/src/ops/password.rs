//! Password work: argon2 hashing and verification on a bounded pool, behind the failed-login
//! back-off of `db::login_failures`.

use sqlx::PgPool;

use crate::{
    db,
    domain::password,
    error::{Error, Result},
};

/// Whether `candidate` matches `stored`, the password hash of `email`'s account. A locked
/// `email` is refused (`RATE_LIMITED`) before any hashing, even with the right password;
/// without a stored hash the check runs against a dummy one (the same cost: answers never
/// tell which accounts exist); a mismatch counts as a failed login of `email`.
pub async fn check(
    pool: &PgPool,
    email: &str,
    stored: Option<String>,
    candidate: String,
) -> Result<bool> {
    if let Some(until) = db::login_failures::locked_until(pool, email).await? {
        let seconds = (until - chrono::Utc::now()).num_seconds().max(1);
        return Err(Error::RateLimited {
            retry_after_seconds: seconds.unsigned_abs(),
        });
    }
    let has_password = stored.is_some();
    let hash = stored.unwrap_or_else(|| password::dummy_hash().to_owned());
    let matches = hashing(move || password::verify(&candidate, &hash)).await? && has_password;
    if !matches {
        let mut conn = pool.acquire().await?;
        db::login_failures::record_failure(&mut conn, email).await?;
    }
    Ok(matches)
}

/// The argon2id hash of `pass`.
pub async fn hash(pass: password::Password) -> Result<String> {
    hashing(move || pass.hash())
        .await?
        .map_err(|e| Error::Internal(anyhow::anyhow!("password hashing failed: {e}")))
}

/// Runs argon2 work (a hash or a verification, tens of milliseconds of CPU each) on the
/// blocking pool, at most one per core at a time: a flood of logins queues here instead of
/// taking every thread from the requests that need none.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        tokio::sync::Semaphore::new(cores)
    });
    let _slot = slots
        .acquire()
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(e.into()))
}
