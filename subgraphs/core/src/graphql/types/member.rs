//! The organisation's members and the invitations that bring them in: roles changed, members
//! removed or leaving (an organisation always keeps an owner), invitations sent and revoked.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subgraph_kit::{
    error::is_constraint_violation,
    server::{AccessError, Tenant},
    Role,
};
use uuid::Uuid;

use super::identity::User;
use crate::{
    db::{
        self,
        invitation::{InvitationRow, StoredInvitationStatus},
        membership::MembershipRow,
    },
    domain::{contact::Email, invitation::InvitationStatus},
    error::{Error, Result},
    events::{self, CoreEvent},
    graphql::{load_one, loaders::UserLoader, parse_id, parts},
};

/// A user's membership of an organisation.
pub struct Membership(pub MembershipRow);

#[Object]
impl Membership {
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let row = load_one::<UserLoader>(ctx, self.0.user_id).await?;
        Ok(row.map(User))
    }
    async fn organisation_id(&self) -> ID {
        ID(self.0.organisation_id.to_string())
    }
    async fn role(&self) -> Role {
        self.0.role
    }
    async fn joined_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// An invitation to join the organisation, sent to an e-mail address.
pub struct Invitation(pub InvitationRow);

#[Object]
impl Invitation {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn role(&self) -> Role {
        self.0.role
    }
    async fn status(&self) -> InvitationStatus {
        self.0.status_now()
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    async fn invited_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let row = load_one::<UserLoader>(ctx, self.0.invited_by).await?;
        Ok(row.map(User))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(InputObject)]
pub struct InviteMemberInput {
    pub email: String,
    pub role: Role,
}

/// The invitation made. Its secret token goes to the invited address alone, by e-mail (only
/// its hash is stored): whoever accepts has shown they read that mailbox, so an invitation
/// cannot create or join an account for an address by anybody else.
#[derive(SimpleObject)]
pub struct InviteMemberPayload {
    pub invitation: Invitation,
}

#[derive(Default)]
pub struct MemberQuery;

#[Object]
impl MemberQuery {
    /// The organisation's members, oldest first.
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let rows =
            db::membership::members_of_organisation(&state.pool, tenant.organisation_id).await?;
        Ok(rows.into_iter().map(Membership).collect())
    }

    /// Invitations, newest first (admins only: they reveal e-mail addresses).
    async fn invitations(
        &self,
        ctx: &Context<'_>,
        status: Option<InvitationStatus>,
    ) -> Result<Vec<Invitation>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let rows =
            db::invitation::list_invitations(&state.pool, tenant.organisation_id, None).await?;
        Ok(rows
            .into_iter()
            .filter(|row| status.is_none_or(|s| row.status_now() == s))
            .map(Invitation)
            .collect())
    }
}

#[derive(Default)]
pub struct MemberMutation;

#[Object]
impl MemberMutation {
    /// Invites someone by e-mail (admins; only owners invite owners). The acceptance link
    /// goes to that address alone; the invitation expires after the configured number of days.
    async fn invite_member(
        &self,
        ctx: &Context<'_>,
        input: InviteMemberInput,
    ) -> Result<InviteMemberPayload> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        if input.role == Role::Owner && tenant.role != Role::Owner {
            return Err(Error::Forbidden("only owners invite owners".into()));
        }
        let email = Email::parse("email", &input.email)?;
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let token = URL_SAFE_NO_PAD.encode(secret);
        let token_hash = Sha256::digest(token.as_bytes());

        let mut tx = state.pool.begin().await?;
        let members = db::membership::lock_members(&mut *tx, tenant.organisation_id).await?;
        let acting = acting_role(&members, tenant.user_id, Role::Admin)?;
        if input.role == Role::Owner && acting != Role::Owner {
            return Err(Error::Forbidden("only owners invite owners".into()));
        }
        if let Some(user) = db::user::find_user_by_email(&mut *tx, email.as_str()).await? {
            if db::membership::find_membership(&mut *tx, tenant.organisation_id, user.id)
                .await?
                .is_some()
            {
                return Err(Error::conflict("this person is already a member"));
            }
        }
        db::invitation::expire_stale_invitations(&mut *tx, tenant.organisation_id, email.as_str())
            .await?;
        let row = db::invitation::insert_invitation(
            &mut *tx,
            db::invitation::NewInvitation {
                id: Uuid::now_v7(),
                organisation_id: tenant.organisation_id,
                email: email.as_str(),
                role: input.role,
                token_hash: &token_hash,
                invited_by: tenant.user_id,
                expires_at: Utc::now() + state.invitation_ttl,
            },
        )
        .await
        .map_err(|err| {
            if is_constraint_violation(&err, db::invitation::PENDING_EMAIL_CONSTRAINT) {
                Error::conflict("a pending invitation already exists for this e-mail")
            } else {
                err.into()
            }
        })?;
        let sealed_token = state
            .mail
            .seal(&token)
            .map_err(|e| Error::internal(e.to_string()))?;
        let invited = CoreEvent::MemberInvited {
            invitation: &row,
            sealed_token,
        };
        events::record(&mut tx, &request.request_id, invited).await?;
        tx.commit().await?;
        Ok(InviteMemberPayload {
            invitation: Invitation(row),
        })
    }

    /// Withdraws a pending invitation (admins).
    async fn revoke_invitation(&self, ctx: &Context<'_>, id: ID) -> Result<Invitation> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        let row = db::invitation::lock_invitation(&mut *tx, tenant.organisation_id, id)
            .await?
            .ok_or(Error::not_found("invitation"))?;
        if row.status_now() != InvitationStatus::Pending {
            return Err(Error::InvalidTransition(format!(
                "only a pending invitation can be revoked; this one is {:?}",
                row.status_now()
            )));
        }
        let row =
            db::invitation::set_invitation_status(&mut *tx, id, StoredInvitationStatus::Revoked)
                .await?;
        tx.commit().await?;
        Ok(Invitation(row))
    }

    /// Changes a member's role (admins; only owners grant or take the owner role). An
    /// organisation always keeps an owner.
    async fn update_member_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
    ) -> Result<Membership> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let user_id = parse_id("userId", &user_id)?;
        let mut tx = state.pool.begin().await?;
        let members = db::membership::lock_members(&mut *tx, tenant.organisation_id).await?;
        let acting = acting_role(&members, tenant.user_id, Role::Admin)?;
        let target = members
            .iter()
            .find(|m| m.user_id == user_id)
            .ok_or(Error::not_found("member"))?;
        if (target.role == Role::Owner || role == Role::Owner) && acting != Role::Owner {
            return Err(Error::Forbidden(
                "only owners grant or take the owner role".into(),
            ));
        }
        if target.role == Role::Owner && role != Role::Owner && owners(&members) == 1 {
            return Err(Error::conflict("an organisation keeps at least one owner"));
        }
        let row = db::membership::update_role(&mut *tx, tenant.organisation_id, user_id, role)
            .await?
            .ok_or(Error::not_found("member"))?;
        let changed = CoreEvent::MemberRoleChanged {
            organisation_id: tenant.organisation_id,
            user_id,
            role,
            by: tenant.user_id,
        };
        events::record(&mut tx, &request.request_id, changed).await?;
        tx.commit().await?;
        Ok(Membership(row))
    }

    /// Removes a member (admins; only owners remove owners; the last owner stays).
    async fn remove_member(&self, ctx: &Context<'_>, user_id: ID) -> Result<ID> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let uuid = parse_id("userId", &user_id)?;
        remove_membership(state, &request.request_id, tenant, Some(Role::Admin), uuid).await?;
        Ok(user_id)
    }

    /// Leaves the organisation the caller acts in (the last owner cannot).
    async fn leave_organisation(&self, ctx: &Context<'_>) -> Result<bool> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        // Anyone may leave; only the last owner's departure is refused below.
        remove_membership(state, &request.request_id, tenant, None, tenant.user_id).await?;
        Ok(true)
    }
}

fn owners(members: &[MembershipRow]) -> usize {
    members.iter().filter(|m| m.role == Role::Owner).count()
}

/// The caller's role as the organisation's locked membership rows say now (the token's may
/// be older), provided it is at least `minimum`.
fn acting_role(members: &[MembershipRow], user_id: Uuid, minimum: Role) -> Result<Role> {
    let role = members
        .iter()
        .find(|m| m.user_id == user_id)
        .map(|m| m.role)
        .ok_or(Error::Access(AccessError::Unauthenticated))?;
    if role < minimum {
        return Err(Error::Access(AccessError::Forbidden(minimum)));
    }
    Ok(role)
}

/// Removes `user_id`'s membership: by an admin (`minimum` Admin; only owners remove owners)
/// or by themselves (`minimum` None: leaving).
async fn remove_membership(
    state: &crate::graphql::CoreState,
    correlation_id: &str,
    tenant: Tenant,
    minimum: Option<Role>,
    user_id: Uuid,
) -> Result<()> {
    let organisation_id = tenant.organisation_id;
    let mut tx = state.pool.begin().await?;
    let members = db::membership::lock_members(&mut *tx, organisation_id).await?;
    let acting_role = match minimum {
        Some(minimum) => acting_role(&members, tenant.user_id, minimum)?,
        None => Role::Owner,
    };
    let target = members
        .iter()
        .find(|m| m.user_id == user_id)
        .ok_or(Error::not_found("member"))?;
    if target.role == Role::Owner {
        if acting_role != Role::Owner {
            return Err(Error::Forbidden("only owners remove owners".into()));
        }
        if owners(&members) == 1 {
            return Err(Error::conflict("an organisation keeps at least one owner"));
        }
    }
    db::membership::delete_membership(&mut *tx, organisation_id, user_id).await?;
    // Its sessions end with it: no refresh token mints another token acting here.
    db::refresh_token::revoke_membership(&mut *tx, organisation_id, user_id).await?;
    let removed = CoreEvent::MemberRemoved {
        organisation_id,
        user_id,
        by: tenant.user_id,
    };
    events::record(&mut tx, correlation_id, removed).await?;
    tx.commit().await?;
    Ok(())
}
