//! Sessions: a short-lived access token (a JWT every subgraph verifies) and a refresh token
//! that mints the next one. A refresh token is bound to the membership it acts in: it is
//! rotated on every use, answers with the membership's current role, and ends when the
//! membership does, at logout, at a password change, or when a used copy is presented again.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use subgraph_kit::Role;
use uuid::Uuid;

use crate::{
    db::{self, organisation::OrganisationRow, user::UserRow},
    error::{Error, Result},
};

/// A refresh token as handed to the client, once.
#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub secret: String,
    pub expires_at: DateTime<Utc>,
}

/// How long things last: a refresh token unused, and a session however often refreshed.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub refresh: Duration,
    pub session: Duration,
}

/// The prefix of refresh tokens: recognisable in a leak scanner, never a JWT.
const PREFIX: &str = "crm_rt_";

fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Starts a family of refresh tokens (a new session) for `user` acting in `organisation`.
pub async fn start(
    conn: &mut PgConnection,
    user_id: Uuid,
    organisation_id: Option<Uuid>,
    lifetimes: Lifetimes,
) -> Result<RefreshToken> {
    let family_id = Uuid::now_v7();
    db::refresh_token::insert_family(&mut *conn, family_id, user_id, organisation_id).await?;
    issue(conn, family_id, Utc::now() + lifetimes.refresh).await
}

/// A new token of `family_id`, valid until `expires_at`.
async fn issue(
    conn: &mut PgConnection,
    family_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<RefreshToken> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    db::refresh_token::insert_token(&mut *conn, family_id, &digest(&secret), expires_at).await?;
    Ok(RefreshToken { secret, expires_at })
}

/// What a rotation hands back: who, where with which role now, and the next refresh token.
#[derive(Debug)]
pub struct Rotated {
    pub user: UserRow,
    pub active: Option<(OrganisationRow, Role)>,
    pub next: RefreshToken,
}

/// Exchanges `secret` for the next token of its family, in the caller's transaction; the
/// next one expires after `lifetimes.refresh`, never after the session's end.
/// Refused (`SessionEnded`) when unknown, expired or revoked; a token used before revokes
/// its whole family (someone holds a copy); a membership that ended revokes it too.
pub async fn rotate(
    conn: &mut PgConnection,
    secret: &str,
    lifetimes: Lifetimes,
) -> Result<Rotated> {
    let Some(token) = db::refresh_token::lock_token(&mut *conn, &digest(secret)).await? else {
        return Err(Error::SessionEnded);
    };
    let Some(family) = db::refresh_token::lock_family(&mut *conn, token.family_id).await? else {
        return Err(Error::SessionEnded);
    };
    let now = Utc::now();
    let session_ends = family.created_at + lifetimes.session;
    if family.revoked_at.is_some() || token.expires_at <= now || session_ends <= now {
        return Err(Error::SessionEnded);
    }
    if token.used_at.is_some() {
        db::refresh_token::revoke_family(&mut *conn, family.id).await?;
        tracing::warn!(family = %family.id, "a used refresh token came back: its session is revoked");
        return Err(Error::SessionEnded);
    }
    let user = db::user::find_user(&mut *conn, family.user_id)
        .await?
        .ok_or(Error::SessionEnded)?;
    let active = match family.organisation_id {
        None => None,
        Some(organisation_id) => {
            let membership =
                db::membership::find_membership(&mut *conn, organisation_id, family.user_id)
                    .await?;
            let organisation =
                db::organisation::find_organisation(&mut *conn, organisation_id).await?;
            match (membership, organisation) {
                (Some(membership), Some(organisation)) => Some((organisation, membership.role)),
                _ => {
                    db::refresh_token::revoke_family(&mut *conn, family.id).await?;
                    return Err(Error::SessionEnded);
                }
            }
        }
    };
    db::refresh_token::mark_used(&mut *conn, token.id).await?;
    let next = issue(conn, family.id, (now + lifetimes.refresh).min(session_ends)).await?;
    Ok(Rotated { user, active, next })
}

/// Ends the session of `secret` (its whole family). Unknown tokens are ignored: the answer
/// says nothing about which tokens exist.
pub async fn end(conn: &mut PgConnection, secret: &str) -> Result<()> {
    if let Some(token) = db::refresh_token::lock_token(&mut *conn, &digest(secret)).await? {
        db::refresh_token::revoke_family(&mut *conn, token.family_id).await?;
    }
    Ok(())
}
