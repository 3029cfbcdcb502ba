//! Answering an invitation: the invitation is checked (pending, not expired), the account is
//! the invited e-mail's (logged in) or created, the membership is added, the invitation
//! marked accepted and `member.joined` recorded — in the caller's transaction.

use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use subgraph_kit::{server::AccessError, Role};
use uuid::Uuid;

use crate::{
    db::{
        self,
        invitation::{InvitationRow, StoredInvitationStatus},
        organisation::OrganisationRow,
        user::UserRow,
    },
    domain::{invitation::InvitationStatus, Invalid},
    error::{Error, Result},
    events::{self, CoreEvent},
};

/// The account to create for an invited e-mail that has none.
#[derive(Debug)]
pub struct NewAccount {
    /// Already hashed (argon2id): hashing is done before any lock is taken.
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
}

/// Who joined what.
#[derive(Debug)]
pub struct Accepted {
    pub user: UserRow,
    pub organisation: OrganisationRow,
    pub role: Role,
}

/// The pending invitation of `token`, locked.
#[tracing::instrument(skip_all)]
pub async fn open(tx: &mut PgConnection, token: &str) -> Result<InvitationRow> {
    let row = db::invitation::lock_invitation_by_token(&mut *tx, &Sha256::digest(token.as_bytes()))
        .await?
        .ok_or(Error::not_found("invitation"))?;
    match row.status_now() {
        InvitationStatus::Pending => Ok(row),
        InvitationStatus::Expired => Err(Error::Expired(
            "this invitation has expired: ask for a new one".into(),
        )),
        used => Err(Error::conflict(format!(
            "this invitation was already answered ({used:?})"
        ))),
    }
}

/// Accepts the invitation of `token` for `acting` (the logged-in user, if any) or the
/// `new_account` it creates.
#[tracing::instrument(skip_all)]
pub async fn accept(
    tx: &mut PgConnection,
    token: &str,
    acting: Option<Uuid>,
    new_account: Option<NewAccount>,
    correlation: &str,
) -> Result<Accepted> {
    let invitation = open(tx, token).await?;
    let user = invited_user(tx, &invitation, acting, new_account).await?;
    let org = invitation.organisation_id;
    if db::membership::find_membership(&mut *tx, org, user.id)
        .await?
        .is_some()
    {
        return Err(Error::conflict(
            "you are already a member of this organisation",
        ));
    }
    db::membership::insert_membership(&mut *tx, org, user.id, invitation.role).await?;
    db::invitation::set_invitation_status(
        &mut *tx,
        invitation.id,
        StoredInvitationStatus::Accepted,
    )
    .await?;
    let joined = CoreEvent::MemberJoined {
        organisation_id: org,
        user_id: user.id,
        role: invitation.role,
        invitation_id: invitation.id,
    };
    events::record(tx, correlation, joined).await?;
    let organisation = db::organisation::find_organisation(&mut *tx, org)
        .await?
        .ok_or(Error::not_found("organisation"))?;
    Ok(Accepted {
        user,
        organisation,
        role: invitation.role,
    })
}

/// The invited e-mail's account: the existing one (which must be the one logged in), else
/// the new account.
async fn invited_user(
    tx: &mut PgConnection,
    invitation: &InvitationRow,
    acting: Option<Uuid>,
    new_account: Option<NewAccount>,
) -> Result<UserRow> {
    if let Some(user) = db::user::find_user_by_email(&mut *tx, &invitation.email).await? {
        if acting != Some(user.id) {
            return Err(Error::Access(AccessError::Unauthenticated));
        }
        return Ok(user);
    }
    let account = new_account.ok_or_else(|| {
        Error::Invalid(Invalid::new(
            "newAccount",
            "no account exists for this e-mail yet: give the account to create",
        ))
    })?;
    db::user::insert_user(
        &mut *tx,
        db::user::NewUser {
            id: Uuid::now_v7(),
            email: &invitation.email,
            password_hash: &account.password_hash,
            first_name: &account.first_name,
            last_name: &account.last_name,
        },
    )
    .await
    .map_err(email_taken)
}

/// The e-mail's uniqueness, as a client error.
pub fn email_taken(err: sqlx::Error) -> Error {
    if subgraph_kit::error::is_constraint_violation(&err, "users_email_key") {
        Error::conflict("an account with this e-mail already exists")
    } else {
        err.into()
    }
}
