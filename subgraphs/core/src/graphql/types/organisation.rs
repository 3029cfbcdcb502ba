//! The organisation (tenant), its sociétés, members and invitations.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subgraph_kit::{error::is_constraint_violation, server::Tenant, Role};
use uuid::Uuid;

use super::identity::User;
use crate::{
    db::{
        self,
        invitation::{InvitationRow, StoredInvitationStatus},
        membership::MembershipRow,
        organisation::OrganisationRow,
        societe::SocieteRow,
    },
    domain::{
        clean_text,
        contact::Email,
        invitation::InvitationStatus,
        societe::{PostalAddress, SocieteFields, SocieteInput},
    },
    error::{Error, Result},
    events::{self, CoreEvent, SocieteChange},
    graphql::{load_one, loaders::UserLoader, parse_id, parts},
};

/// An organisation: the tenant that owns every other piece of data.
pub struct Organisation(pub OrganisationRow);

#[Object]
impl Organisation {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A legal entity (société) of the organisation: it issues invoices and signs contracts.
pub struct Societe(pub SocieteRow);

/// A postal address printed on documents.
#[derive(SimpleObject)]
pub struct PostalAddressView {
    pub line1: String,
    pub line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

#[Object]
impl Societe {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Raison sociale.
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn siren(&self) -> &str {
        &self.0.siren
    }
    async fn siret(&self) -> Option<&str> {
        self.0.siret.as_deref()
    }
    /// Intra-EU VAT number.
    async fn vat_number(&self) -> Option<&str> {
        self.0.vat_number.as_deref()
    }
    async fn address(&self) -> Option<PostalAddressView> {
        let s = &self.0;
        Some(PostalAddressView {
            line1: s.address_line1.clone()?,
            line2: s.address_line2.clone(),
            postal_code: s.postal_code.clone()?,
            city: s.city.clone()?,
            country: s.country.clone(),
        })
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

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
pub struct PostalAddressInput {
    pub line1: String,
    pub line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2; FR when omitted.
    pub country: Option<String>,
}

impl PostalAddressInput {
    pub(crate) fn parse(&self, prefix: &str) -> Result<PostalAddress> {
        Ok(PostalAddress::parse(
            prefix,
            &self.line1,
            self.line2.as_deref(),
            &self.postal_code,
            &self.city,
            self.country.as_deref(),
        )?)
    }
}

#[derive(InputObject)]
pub struct SocieteInputObject {
    /// Raison sociale.
    pub name: String,
    /// 9 digits, Luhn-checked.
    pub siren: String,
    /// 14 digits starting with the SIREN.
    pub siret: Option<String>,
    /// FR + key + SIREN for a French société.
    pub vat_number: Option<String>,
    pub address: Option<PostalAddressInput>,
}

impl SocieteInputObject {
    fn parse(&self) -> Result<SocieteFields> {
        let address = self
            .address
            .as_ref()
            .map(|a| a.parse("address"))
            .transpose()?;
        Ok(SocieteFields::parse(SocieteInput {
            name: &self.name,
            siren: &self.siren,
            siret: self.siret.as_deref(),
            vat_number: self.vat_number.as_deref(),
            address,
        })?)
    }
}

#[derive(InputObject)]
pub struct InviteMemberInput {
    pub email: String,
    pub role: Role,
}

/// The invitation and its secret token. The token is shown once: only its hash is stored.
#[derive(SimpleObject)]
pub struct InviteMemberPayload {
    pub invitation: Invitation,
    /// Give it to the invitee (the engagement subgraph e-mails it once events flow).
    pub token: String,
}

#[derive(Default)]
pub struct OrganisationQuery;

#[Object]
impl OrganisationQuery {
    /// The organisation the caller acts in.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        db::organisation::find_organisation(&state.pool, tenant.organisation_id)
            .await?
            .map(Organisation)
            .ok_or(Error::not_found("organisation"))
    }

    /// The organisation's sociétés, by name.
    async fn societes(&self, ctx: &Context<'_>) -> Result<Vec<Societe>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let rows = db::societe::list_societes(&state.pool, tenant.organisation_id).await?;
        Ok(rows.into_iter().map(Societe).collect())
    }

    async fn societe(&self, ctx: &Context<'_>, id: ID) -> Result<Societe> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let id = parse_id("id", &id)?;
        db::societe::find_societe(&state.pool, tenant.organisation_id, id)
            .await?
            .map(Societe)
            .ok_or(Error::not_found("société"))
    }

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
pub struct OrganisationMutation;

#[Object]
impl OrganisationMutation {
    /// Renames the organisation (admins).
    async fn update_organisation(&self, ctx: &Context<'_>, name: String) -> Result<Organisation> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let name = clean_text("name", &name, 200)?;
        db::organisation::update_organisation_name(&state.pool, tenant.organisation_id, &name)
            .await?
            .map(Organisation)
            .ok_or(Error::not_found("organisation"))
    }

    /// Adds a société (admins). Its SIREN is unique within the organisation.
    async fn create_societe(
        &self,
        ctx: &Context<'_>,
        input: SocieteInputObject,
    ) -> Result<Societe> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let fields = input.parse()?;
        let mut tx = state.pool.begin().await?;
        let row =
            db::societe::insert_societe(&mut *tx, tenant.organisation_id, Uuid::now_v7(), &fields)
                .await
                .map_err(siren_conflict)?;
        let event = CoreEvent::SocieteChanged {
            societe: &row,
            change: SocieteChange::Created,
            by: tenant.user_id,
        };
        events::record(&mut tx, &request.request_id, event).await?;
        tx.commit().await?;
        Ok(Societe(row))
    }

    async fn update_societe(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: SocieteInputObject,
    ) -> Result<Societe> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let id = parse_id("id", &id)?;
        let fields = input.parse()?;
        let mut tx = state.pool.begin().await?;
        let row = db::societe::update_societe(&mut *tx, tenant.organisation_id, id, &fields)
            .await
            .map_err(siren_conflict)?
            .ok_or(Error::not_found("société"))?;
        let event = CoreEvent::SocieteChanged {
            societe: &row,
            change: SocieteChange::Updated,
            by: tenant.user_id,
        };
        events::record(&mut tx, &request.request_id, event).await?;
        tx.commit().await?;
        Ok(Societe(row))
    }

    /// Deletes a société that nothing refers to (admins).
    async fn delete_societe(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let uuid = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        match db::societe::delete_societe(&mut *tx, tenant.organisation_id, uuid).await {
            Ok(Some(row)) => {
                let event = CoreEvent::SocieteChanged {
                    societe: &row,
                    change: SocieteChange::Deleted,
                    by: tenant.user_id,
                };
                events::record(&mut tx, &request.request_id, event).await?;
                tx.commit().await?;
                Ok(id)
            }
            Ok(None) => Err(Error::not_found("société")),
            Err(err) if is_constraint_violation(&err, db::client::SOCIETE_CONSTRAINT) => {
                Err(Error::conflict("this société still has clients"))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Invites someone by e-mail (admins; only owners invite owners). The token is returned
    /// once; the invitation expires after the configured number of days.
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
        let invited = CoreEvent::MemberInvited {
            invitation: &row,
            token: &token,
        };
        events::record(&mut tx, &request.request_id, invited).await?;
        tx.commit().await?;
        Ok(InviteMemberPayload {
            invitation: Invitation(row),
            token,
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
        let target = members
            .iter()
            .find(|m| m.user_id == user_id)
            .ok_or(Error::not_found("member"))?;
        if (target.role == Role::Owner || role == Role::Owner) && tenant.role != Role::Owner {
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
        remove_membership(state, &request.request_id, tenant, tenant.role, uuid).await?;
        Ok(user_id)
    }

    /// Leaves the organisation the caller acts in (the last owner cannot).
    async fn leave_organisation(&self, ctx: &Context<'_>) -> Result<bool> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        // Anyone may leave; only the last owner's departure is refused below.
        remove_membership(
            state,
            &request.request_id,
            tenant,
            Role::Owner,
            tenant.user_id,
        )
        .await?;
        Ok(true)
    }
}

fn owners(members: &[MembershipRow]) -> usize {
    members.iter().filter(|m| m.role == Role::Owner).count()
}

async fn remove_membership(
    state: &crate::graphql::CoreState,
    correlation_id: &str,
    tenant: Tenant,
    acting_role: Role,
    user_id: Uuid,
) -> Result<()> {
    let organisation_id = tenant.organisation_id;
    let mut tx = state.pool.begin().await?;
    let members = db::membership::lock_members(&mut *tx, organisation_id).await?;
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
    let removed = CoreEvent::MemberRemoved {
        organisation_id,
        user_id,
        by: tenant.user_id,
    };
    events::record(&mut tx, correlation_id, removed).await?;
    tx.commit().await?;
    Ok(())
}

fn siren_conflict(err: sqlx::Error) -> Error {
    if is_constraint_violation(&err, "societes_siren_key") {
        Error::conflict("a société with this SIREN already exists in the organisation")
    } else {
        err.into()
    }
}
