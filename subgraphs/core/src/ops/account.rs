//! Accounts: sign-up in two steps, and password reset. Asking for either answers the same
//! whether or not an account has the e-mail, so nobody learns which accounts exist; the
//! e-mail's owner proves it with the link mailed to them (its token crosses the bus sealed for
//! the mailer, and only its SHA-256 is stored).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use subgraph_kit::{sealed::SealingKey, Role};
use uuid::Uuid;

use crate::{
    db::{self, organisation::OrganisationRow, sign_up::SignUpRow, user::UserRow},
    domain::contact::Email,
    error::{Error, Result},
    events::{self, CoreEvent},
    ops::invitation,
};

/// How long a sign-up waits for its confirmation.
pub fn sign_up_lifetime() -> Duration {
    Duration::hours(24)
}

/// How long a password reset link works.
pub fn reset_lifetime() -> Duration {
    Duration::hours(1)
}

/// Reset links one user is sent per hour at most; further requests are answered alike and
/// send nothing (nobody floods a mailbox through us).
pub const RESETS_PER_HOUR: i64 = 3;

/// A link's secret, and the SHA-256 that is stored.
struct LinkToken {
    secret: String,
    digest: Vec<u8>,
}

fn new_link_token(prefix: &str) -> LinkToken {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
    LinkToken {
        digest: digest(&secret),
        secret,
    }
}

/// The SHA-256 under which a link's token is stored.
pub fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.trim().as_bytes()).to_vec()
}

fn seal(mail: &SealingKey, secret: &str) -> Result<String> {
    mail.seal(secret)
        .map_err(|e| Error::internal(e.to_string()))
}

/// A sign-up as asked, validated, its password already hashed.
pub struct SignUpRequest {
    pub email: Email,
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
    pub organisation_name: String,
}

/// Records what a sign-up asks for, in the caller's transaction: for a new e-mail, a pending
/// sign-up and its confirmation e-mail; for an e-mail with an account, a word to its owner
/// (at most one an hour). The caller answers the same either way.
pub async fn request_sign_up(
    tx: &mut PgConnection,
    mail: &SealingKey,
    correlation_id: &str,
    request: SignUpRequest,
) -> Result<()> {
    let email = request.email.as_str();
    if let Some(user) = db::user::find_user_by_email(&mut *tx, email).await? {
        let oldest = db::membership::memberships_of_user(&mut *tx, user.id).await?;
        if let Some(membership) = oldest.first() {
            if !db::sign_up::existing_account_told_recently(&mut *tx, user.id).await? {
                let told = CoreEvent::SignUpOfExistingAccount {
                    organisation_id: membership.organisation_id,
                    user: &user,
                };
                events::record(tx, correlation_id, told).await?;
            }
        }
        return Ok(());
    }
    if db::sign_up::asked_within_a_minute(&mut *tx, email).await? {
        // One confirmation e-mail a minute per address: the earlier one is on its way.
        return Ok(());
    }
    let token = new_link_token("crm_su_");
    let sign_up = db::sign_up::upsert(
        &mut *tx,
        db::sign_up::NewSignUp {
            email,
            password_hash: &request.password_hash,
            first_name: &request.first_name,
            last_name: &request.last_name,
            organisation_name: &request.organisation_name,
            token_hash: &token.digest,
            expires_at: Utc::now() + sign_up_lifetime(),
        },
    )
    .await?;
    let requested = CoreEvent::SignUpRequested {
        sign_up: &sign_up,
        sealed_token: seal(mail, &token.secret)?,
    };
    events::record(tx, correlation_id, requested).await
}

/// The pending sign-up a confirmation link names: `NOT_FOUND` when unknown (used, replaced),
/// `EXPIRED` past its day.
pub async fn pending_sign_up(conn: &mut PgConnection, token: &str) -> Result<SignUpRow> {
    let row = db::sign_up::find_by_token(&mut *conn, &digest(token))
        .await?
        .ok_or(Error::not_found("sign-up"))?;
    if row.expires_at <= Utc::now() {
        return Err(Error::Expired(
            "this confirmation link has expired: sign up again".into(),
        ));
    }
    Ok(row)
}

/// What a confirmed sign-up created.
pub struct Confirmed {
    pub user: UserRow,
    pub organisation: OrganisationRow,
}

/// Creates the account, its organisation and the owner's membership from the sign-up
/// `token` names (its password checked by the caller), in the caller's transaction; the
/// sign-up is consumed. `CONFLICT` when an account took the e-mail meanwhile.
pub async fn confirm_sign_up(
    tx: &mut PgConnection,
    token: &str,
    expected: Uuid,
    correlation_id: &str,
) -> Result<Confirmed> {
    let pending = db::sign_up::lock_by_token(&mut *tx, &digest(token))
        .await?
        .filter(|row| row.id == expected)
        .ok_or(Error::not_found("sign-up"))?;
    let user = db::user::insert_user(
        &mut *tx,
        db::user::NewUser {
            id: Uuid::now_v7(),
            email: &pending.email,
            password_hash: &pending.password_hash,
            first_name: &pending.first_name,
            last_name: &pending.last_name,
        },
    )
    .await
    .map_err(invitation::email_taken)?;
    let organisation = db::organisation::insert_organisation(
        &mut *tx,
        pending.organisation_id,
        &pending.organisation_name,
    )
    .await?;
    db::membership::insert_membership(&mut *tx, organisation.id, user.id, Role::Owner).await?;
    db::sign_up::delete(&mut *tx, pending.id).await?;
    let created = CoreEvent::OrganisationCreated {
        organisation_id: organisation.id,
        name: &organisation.name,
        owner_id: user.id,
    };
    events::record(tx, correlation_id, created).await?;
    Ok(Confirmed { user, organisation })
}

/// Sends `email`'s account a reset link (earlier ones stop working), if it has an account with a password and an
/// organisation and was sent fewer than [`RESETS_PER_HOUR`] this hour; in the caller's
/// transaction. Answers nothing either way.
pub async fn request_password_reset(
    tx: &mut PgConnection,
    mail: &SealingKey,
    correlation_id: &str,
    email: &Email,
) -> Result<()> {
    let Some(user) = db::user::find_user_by_email(&mut *tx, email.as_str()).await? else {
        return Ok(());
    };
    let memberships = db::membership::memberships_of_user(&mut *tx, user.id).await?;
    let Some(oldest) = memberships.first() else {
        return Ok(());
    };
    if user.password_hash.is_none()
        || db::password_reset::sent_last_hour(&mut *tx, user.id).await? >= RESETS_PER_HOUR
    {
        return Ok(());
    }
    // The newest link is the one that works.
    db::password_reset::end_all(&mut *tx, user.id).await?;
    let token = new_link_token("crm_pr_");
    let reset = db::password_reset::insert(
        &mut *tx,
        oldest.organisation_id,
        user.id,
        &token.digest,
        Utc::now() + reset_lifetime(),
    )
    .await?;
    let requested = CoreEvent::PasswordResetRequested {
        reset: &reset,
        user: &user,
        sealed_token: seal(mail, &token.secret)?,
    };
    events::record(tx, correlation_id, requested).await
}

/// The user a reset link works for: `NOT_FOUND` when it is unknown, used, replaced or expired.
pub async fn reset_link_user(conn: &mut PgConnection, token: &str) -> Result<Uuid> {
    db::password_reset::find_usable(&mut *conn, &digest(token))
        .await?
        .map(|reset| reset.user_id)
        .ok_or(Error::not_found("password reset link"))
}

/// Sets the password of the user `token` is for to `hash`, in the caller's transaction: the
/// link and every other one of the user's end, so do all their sessions, and their failed
/// logins are forgotten. `NOT_FOUND` when the link stopped working meanwhile.
pub async fn reset_password(tx: &mut PgConnection, token: &str, hash: &str) -> Result<()> {
    let reset = db::password_reset::lock_by_token(&mut *tx, &digest(token))
        .await?
        .ok_or(Error::not_found("password reset link"))?;
    let user = db::user::find_user(&mut *tx, reset.user_id)
        .await?
        .ok_or(Error::not_found("password reset link"))?;
    db::user::set_password(&mut *tx, user.id, hash).await?;
    db::password_reset::end_all(&mut *tx, user.id).await?;
    db::refresh_token::revoke_user(&mut *tx, user.id).await?;
    db::login_failures::clear(&mut *tx, &user.email).await?;
    Ok(())
}
