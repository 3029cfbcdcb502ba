//! Identity: users, sign-up, login, switching organisation, and answering invitations.
//! These are the operations that run without a token (sign-up, login, invitation answers).

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use subgraph_kit::Role;

use super::organisation::Organisation;
use crate::{
    db::{self, invitation::StoredInvitationStatus, organisation::OrganisationRow, user::UserRow},
    domain::{clean_text, invitation::InvitationStatus, password},
    error::{Error, Result},
    graphql::{parse_id, parts, CoreState},
    ops::{self, invitation, session},
    tokens::IssuedToken,
};

/// A person with an account. Visible to the members of the organisations they belong to.
pub struct User(pub UserRow);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn first_name(&self) -> &str {
        &self.0.first_name
    }
    async fn last_name(&self) -> &str {
        &self.0.last_name
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One organisation the caller belongs to.
#[derive(SimpleObject)]
pub struct MyMembership {
    pub organisation: Organisation,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// The caller: who they are, where they act, and where else they could.
#[derive(SimpleObject)]
pub struct Me {
    pub user: User,
    /// The organisation the token acts in, if any.
    pub organisation: Option<Organisation>,
    pub role: Option<Role>,
    pub memberships: Vec<MyMembership>,
}

/// A session: a signed access token and what it grants, and the refresh token that gets the
/// next access token when this one expires.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Send as `Authorization: Bearer <token>`. Short-lived (15 minutes unless configured).
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// Exchange it with `refreshSession` for a new session before `refreshExpiresAt`; it works
    /// once (each exchange returns the next one), and `logout` ends it. Keep it secret.
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
    pub user: User,
    pub organisation: Option<Organisation>,
    pub role: Option<Role>,
}

/// What an invitation token leads to, shown before answering it.
#[derive(SimpleObject)]
pub struct InvitationPreview {
    pub organisation_name: String,
    pub email: String,
    pub role: Role,
    pub status: InvitationStatus,
    pub expires_at: DateTime<Utc>,
    /// Whether an account already exists for the e-mail (then: log in, then accept).
    pub account_exists: bool,
}

#[derive(InputObject)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    /// Organisation to act in; the oldest membership when omitted.
    pub organisation_id: Option<ID>,
}

#[derive(InputObject)]
pub struct AcceptInvitationInput {
    pub token: String,
    /// For someone without an account yet: the account to create.
    pub new_account: Option<NewAccountInput>,
}

#[derive(InputObject)]
pub struct NewAccountInput {
    pub password: String,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The caller.
    async fn me(&self, ctx: &Context<'_>) -> Result<Me> {
        let (state, request) = parts(ctx);
        let identity = request.identity()?;
        let user = db::user::find_user(&state.pool, identity.user_id)
            .await?
            .ok_or(Error::Access(
                subgraph_kit::server::AccessError::Unauthenticated,
            ))?;
        let memberships = db::membership::memberships_of_user(&state.pool, user.id).await?;
        let ids: Vec<_> = memberships.iter().map(|m| m.organisation_id).collect();
        let mut organisations: std::collections::HashMap<_, _> =
            db::organisation::organisations_by_ids(&state.pool, &ids)
                .await?
                .into_iter()
                .map(|org| (org.id, org))
                .collect();
        let mut mine = Vec::with_capacity(memberships.len());
        let mut active = None;
        for m in memberships {
            let Some(org) = organisations.remove(&m.organisation_id) else {
                continue;
            };
            if identity
                .membership
                .is_some_and(|a| a.organisation_id == org.id)
            {
                active = Some(org.clone());
            }
            mine.push(MyMembership {
                organisation: Organisation(org),
                role: m.role,
                joined_at: m.created_at,
            });
        }
        Ok(Me {
            user: User(user),
            role: active.as_ref().and(identity.membership.map(|m| m.role)),
            organisation: active.map(Organisation),
            memberships: mine,
        })
    }

    /// What an invitation token is for (no authentication: the token is the secret).
    async fn invitation_preview(
        &self,
        ctx: &Context<'_>,
        token: String,
    ) -> Result<InvitationPreview> {
        let (state, _) = parts(ctx);
        let mut tx = state.pool.begin().await?;
        let row =
            db::invitation::lock_invitation_by_token(&mut *tx, &Sha256::digest(token.as_bytes()))
                .await?
                .ok_or(Error::not_found("invitation"))?;
        let org = db::organisation::find_organisation(&mut *tx, row.organisation_id)
            .await?
            .ok_or(Error::not_found("invitation"))?;
        let account_exists = db::user::find_user_by_email(&mut *tx, &row.email)
            .await?
            .is_some();
        tx.commit().await?;
        Ok(InvitationPreview {
            organisation_name: org.name,
            email: row.email.clone(),
            role: row.role,
            status: row.status_now(),
            expires_at: row.expires_at,
            account_exists,
        })
    }
}

#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Exchanges e-mail and password for a token.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> Result<AuthPayload> {
        let (state, _) = parts(ctx);
        let requested_org = input
            .organisation_id
            .as_ref()
            .map(|id| parse_id("organisationId", id))
            .transpose()?;
        let email = input.email.trim().to_lowercase();
        let user = db::user::find_user_by_email(&state.pool, &email).await?;
        let matches = check_password(state, &email, user.as_ref(), input.password).await?;
        let user = match user {
            Some(user) if matches => user,
            _ => return Err(Error::BadCredentials),
        };
        db::login_failures::clear(&state.pool, &email).await?;
        let memberships = db::membership::memberships_of_user(&state.pool, user.id).await?;
        let chosen = match requested_org {
            Some(org) => Some(
                memberships
                    .iter()
                    .find(|m| m.organisation_id == org)
                    .ok_or_else(|| {
                        Error::Forbidden("you are not a member of this organisation".into())
                    })?,
            ),
            None => memberships.first(),
        };
        let active = match chosen {
            Some(m) => db::organisation::find_organisation(&state.pool, m.organisation_id)
                .await?
                .map(|org| (org, m.role)),
            None => None,
        };
        let mut conn = state.pool.acquire().await?;
        auth_payload(state, &mut conn, user, active).await
    }

    /// Issues a token acting in another organisation the caller belongs to.
    async fn switch_organisation(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
    ) -> Result<AuthPayload> {
        let (state, request) = parts(ctx);
        let identity = request.identity()?;
        let org_id = parse_id("organisationId", &organisation_id)?;
        let membership = db::membership::find_membership(&state.pool, org_id, identity.user_id)
            .await?
            .ok_or_else(|| Error::Forbidden("you are not a member of this organisation".into()))?;
        let user = db::user::find_user(&state.pool, identity.user_id)
            .await?
            .ok_or(Error::Access(
                subgraph_kit::server::AccessError::Unauthenticated,
            ))?;
        let org = db::organisation::find_organisation(&state.pool, org_id)
            .await?
            .ok_or(Error::not_found("organisation"))?;
        let mut conn = state.pool.acquire().await?;
        auth_payload(state, &mut conn, user, Some((org, membership.role))).await
    }

    /// Accepts an invitation: the membership is created and a token for the organisation is
    /// returned. Someone with an account must be logged in as the invited e-mail; someone
    /// without one gives `newAccount`.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        input: AcceptInvitationInput,
    ) -> Result<AuthPayload> {
        let (state, request) = parts(ctx);
        // The token first: a wrong one costs a lookup, never a password hash.
        let mut check = state.pool.begin().await?;
        invitation::open(&mut check, &input.token).await?;
        check.rollback().await?;
        // Validate and hash before taking locks.
        let new_account = match &input.new_account {
            Some(account) => Some(invitation::NewAccount {
                password_hash: ops::password::hash(password::Password::parse(
                    "newAccount.password",
                    &account.password,
                )?)
                .await?,
                first_name: clean_text("newAccount.firstName", &account.first_name, 100)?,
                last_name: clean_text("newAccount.lastName", &account.last_name, 100)?,
            }),
            None => None,
        };
        let acting = request.identity.as_ref().map(|i| i.user_id);
        let mut tx = state.pool.begin().await?;
        let accepted = invitation::accept(
            &mut tx,
            &input.token,
            acting,
            new_account,
            &request.request_id,
        )
        .await?;
        let ops::invitation::Accepted {
            user,
            organisation,
            role,
        } = accepted;
        let payload = auth_payload(state, &mut tx, user, Some((organisation, role))).await?;
        tx.commit().await?;
        Ok(payload)
    }

    /// Declines an invitation (the token is the proof).
    async fn reject_invitation(&self, ctx: &Context<'_>, token: String) -> Result<bool> {
        let (state, _) = parts(ctx);
        let mut tx = state.pool.begin().await?;
        let invitation = invitation::open(&mut tx, &token).await?;
        db::invitation::set_invitation_status(
            &mut *tx,
            invitation.id,
            StoredInvitationStatus::Rejected,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Exchanges a refresh token for a new session (access token and the next refresh token),
    /// with the membership's current role. A refresh token works once: presenting a used one
    /// again ends its session for everyone holding it. `UNAUTHENTICATED` means: log in again.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> Result<AuthPayload> {
        let (state, _) = parts(ctx);
        let mut tx = state.pool.begin().await?;
        let rotated = session::rotate(&mut tx, refresh_token.trim(), state.sessions).await;
        // A refusal may have revoked a family: that is kept.
        let session::Rotated { user, active, next } = match rotated {
            Ok(rotated) => rotated,
            Err(refused) => {
                tx.commit().await?;
                return Err(refused);
            }
        };
        let payload = payload(state, user, active, next)?;
        tx.commit().await?;
        Ok(payload)
    }

    /// Ends the session of this refresh token: neither it nor any token it led to works again
    /// (access tokens already issued expire on their own within minutes). Always true.
    async fn logout(&self, ctx: &Context<'_>, refresh_token: String) -> Result<bool> {
        let (state, _) = parts(ctx);
        let mut tx = state.pool.begin().await?;
        session::end(&mut tx, refresh_token.trim()).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Changes the caller's password. Every session of the caller ends (other devices log in
    /// again); the answer is a new session here. A wrong current password counts as a failed
    /// login of the caller's e-mail.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> Result<AuthPayload> {
        let (state, request) = parts(ctx);
        let identity = request.identity()?;
        let new = password::Password::parse("newPassword", &new_password)?;
        let user = db::user::find_user(&state.pool, identity.user_id)
            .await?
            .ok_or(Error::Access(
                subgraph_kit::server::AccessError::Unauthenticated,
            ))?;
        if !check_password(state, &user.email, Some(&user), current_password).await? {
            return Err(Error::invalid("currentPassword", "is not your password"));
        }
        let new_hash = ops::password::hash(new).await?;
        let active = match identity.membership {
            Some(membership) => {
                db::organisation::find_organisation(&state.pool, membership.organisation_id)
                    .await?
                    .zip(
                        db::membership::find_membership(
                            &state.pool,
                            membership.organisation_id,
                            user.id,
                        )
                        .await?
                        .map(|m| m.role),
                    )
            }
            None => None,
        };
        let mut tx = state.pool.begin().await?;
        db::user::set_password(&mut *tx, user.id, &new_hash).await?;
        db::refresh_token::revoke_user(&mut *tx, user.id).await?;
        let payload = auth_payload(state, &mut tx, user, active).await?;
        tx.commit().await?;
        Ok(payload)
    }
}

/// Whether `candidate` is `user`'s password (see [`ops::password::check`]).
async fn check_password(
    state: &CoreState,
    email: &str,
    user: Option<&UserRow>,
    candidate: String,
) -> Result<bool> {
    let stored = user.and_then(|u| u.password_hash.clone());
    ops::password::check(&state.pool, email, stored, candidate).await
}

/// A new session for `user` acting in `active`: its refresh token is stored through `conn`
/// (the caller's transaction, when it has one).
pub(super) async fn auth_payload(
    state: &CoreState,
    conn: &mut sqlx::PgConnection,
    user: UserRow,
    active: Option<(OrganisationRow, Role)>,
) -> Result<AuthPayload> {
    let refresh = session::start(
        conn,
        user.id,
        active.as_ref().map(|(org, _)| org.id),
        state.sessions,
    )
    .await?;
    payload(state, user, active, refresh)
}

fn payload(
    state: &CoreState,
    user: UserRow,
    active: Option<(OrganisationRow, Role)>,
    refresh: session::RefreshToken,
) -> Result<AuthPayload> {
    let IssuedToken { token, expires_at } = state
        .issuer
        .issue(user.id, active.as_ref().map(|(org, role)| (org.id, *role)))?;
    Ok(AuthPayload {
        token,
        expires_at,
        refresh_token: refresh.secret,
        refresh_expires_at: refresh.expires_at,
        user: User(user),
        role: active.as_ref().map(|(_, role)| *role),
        organisation: active.map(|(org, _)| Organisation(org)),
    })
}
