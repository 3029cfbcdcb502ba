//! The events core publishes: the tenant's directory (organisations, members, clients,
//! sociétés), with the payloads of `crm_events::directory`. Each is recorded in the
//! transaction of the change it describes; the relay publishes it to `crm.events.<type>` on
//! JetStream. The catalogue is in the README.

use crm_events::directory::{
    self as contract, BillingAddress, ClientSnapshot, MemberRole, SocieteSnapshot,
};
use sqlx::PgConnection;
use subgraph_kit::{events::record_event, Role};
use uuid::Uuid;

use crate::{
    db::{
        client::ClientRow, invitation::InvitationRow, password_reset::PasswordResetRow,
        sign_up::SignUpRow, societe::SocieteRow, user::UserRow,
    },
    domain::client::{ClientKind, ClientStatus},
    error::Result,
};

/// What happened to a société.
#[derive(Debug, Clone, Copy)]
pub enum SocieteChange {
    Created,
    Updated,
    Deleted,
}

/// Every event core emits.
#[derive(Debug)]
pub enum CoreEvent<'a> {
    /// A client was created (with the user who created it).
    ClientCreated { client: &'a ClientRow, by: Uuid },
    /// A client's fields changed, or it was deleted or restored.
    ClientUpdated { client: &'a ClientRow, by: Uuid },
    /// An organisation was created by its first owner.
    OrganisationCreated {
        organisation_id: Uuid,
        name: &'a str,
        owner_id: Uuid,
    },
    /// Someone was invited; the invitation's token travels sealed for the mailer.
    MemberInvited {
        invitation: &'a InvitationRow,
        sealed_token: String,
    },
    /// A member's role changed.
    MemberRoleChanged {
        organisation_id: Uuid,
        user_id: Uuid,
        role: Role,
        by: Uuid,
    },
    /// A member left or was removed.
    MemberRemoved {
        organisation_id: Uuid,
        user_id: Uuid,
        by: Uuid,
    },
    /// A société (legal entity) was created, changed or deleted.
    SocieteChanged {
        societe: &'a SocieteRow,
        change: SocieteChange,
        by: Uuid,
    },
    /// Someone joined through an invitation.
    MemberJoined {
        organisation_id: Uuid,
        user_id: Uuid,
        role: Role,
        invitation_id: Uuid,
    },
    /// Someone asked for an account; the confirmation link's token travels sealed.
    SignUpRequested {
        sign_up: &'a SignUpRow,
        sealed_token: String,
    },
    /// Someone asked for an account with an existing account's e-mail; its owner is told, in
    /// their oldest organisation.
    SignUpOfExistingAccount {
        organisation_id: Uuid,
        user: &'a UserRow,
    },
    /// A user asked for a password reset link; its token travels sealed.
    PasswordResetRequested {
        reset: &'a PasswordResetRow,
        user: &'a UserRow,
        sealed_token: String,
    },
}

/// The role as events carry it.
pub fn member_role(role: Role) -> MemberRole {
    match role {
        Role::Viewer => MemberRole::Viewer,
        Role::Member => MemberRole::Member,
        Role::Admin => MemberRole::Admin,
        Role::Owner => MemberRole::Owner,
    }
}

/// A client as events and the directory routes carry it, with its billing address (the
/// default one, else the first), which invoices start from.
pub async fn client_snapshot(conn: &mut PgConnection, c: &ClientRow) -> Result<ClientSnapshot> {
    let billing = crate::db::address::billing_address(&mut *conn, c.organisation_id, c.id).await?;
    Ok(ClientSnapshot {
        client_id: c.id,
        kind: match c.kind {
            ClientKind::Person => contract::ClientKind::Person,
            ClientKind::Company => contract::ClientKind::Company,
        },
        status: match c.status {
            ClientStatus::Prospect => contract::ClientStatus::Prospect,
            ClientStatus::Active => contract::ClientStatus::Active,
            ClientStatus::Inactive => contract::ClientStatus::Inactive,
            ClientStatus::Suspended => contract::ClientStatus::Suspended,
        },
        name: c.name.clone(),
        first_name: c.first_name.clone(),
        email: c.email.clone(),
        phone: c.phone.clone(),
        birth_date: c.birth_date,
        societe_id: c.societe_id,
        siren: c.siren.clone(),
        vat_number: c.vat_number.clone(),
        payment_terms_days: c.payment_terms_days,
        created_at: c.created_at,
        updated_at: c.updated_at,
        deleted_at: c.deleted_at,
        billing_address: billing.map(|a| BillingAddress {
            line1: a.line1,
            line2: a.line2,
            postal_code: a.postal_code,
            city: a.city,
            country: a.country,
        }),
    })
}

/// A société as events and the directory routes carry it.
pub fn societe_snapshot(s: &SocieteRow) -> SocieteSnapshot {
    SocieteSnapshot {
        societe_id: s.id,
        name: s.name.clone(),
        siren: s.siren.clone(),
        siret: s.siret.clone(),
        vat_number: s.vat_number.clone(),
    }
}

/// Records `event` in the caller's transaction, correlated with the request `correlation_id`.
pub async fn record(
    tx: &mut PgConnection,
    correlation_id: &str,
    event: CoreEvent<'_>,
) -> Result<()> {
    let correlation = Some(correlation_id);
    match event {
        CoreEvent::ClientCreated { client, by } => {
            let payload = contract::ClientCreated {
                client: client_snapshot(tx, client).await?,
                created_by: by,
            };
            record_event(tx, &payload, client.organisation_id, correlation, None).await
        }
        CoreEvent::ClientUpdated { client, by } => {
            let payload = contract::ClientUpdated {
                client: client_snapshot(tx, client).await?,
                updated_by: by,
            };
            record_event(tx, &payload, client.organisation_id, correlation, None).await
        }
        CoreEvent::SocieteChanged {
            societe,
            change,
            by,
        } => record_societe(tx, correlation, societe, change, by).await,
        CoreEvent::OrganisationCreated {
            organisation_id,
            name,
            owner_id,
        } => {
            let payload = contract::OrganisationCreated {
                organisation_id,
                name: name.to_owned(),
                owner_id,
            };
            record_event(tx, &payload, organisation_id, correlation, None).await
        }
        CoreEvent::SignUpRequested {
            sign_up,
            sealed_token,
        } => {
            let payload = contract::SignUpRequested {
                email: sign_up.email.clone(),
                first_name: sign_up.first_name.clone(),
                expires_at: sign_up.expires_at,
                sealed_token,
            };
            record_event(tx, &payload, sign_up.organisation_id, correlation, None).await
        }
        CoreEvent::SignUpOfExistingAccount {
            organisation_id,
            user,
        } => {
            let payload = contract::SignUpOfExistingAccount {
                user_id: user.id,
                email: user.email.clone(),
                first_name: user.first_name.clone(),
            };
            record_event(tx, &payload, organisation_id, correlation, None).await
        }
        CoreEvent::PasswordResetRequested {
            reset,
            user,
            sealed_token,
        } => {
            let payload = contract::PasswordResetRequested {
                user_id: user.id,
                email: user.email.clone(),
                first_name: user.first_name.clone(),
                expires_at: reset.expires_at,
                sealed_token,
            };
            record_event(tx, &payload, reset.organisation_id, correlation, None).await
        }
        member => record_member(tx, correlation, member).await,
    }
}

async fn record_societe(
    tx: &mut PgConnection,
    correlation: Option<&str>,
    societe: &SocieteRow,
    change: SocieteChange,
    by: Uuid,
) -> Result<()> {
    let (snapshot, org) = (societe_snapshot(societe), societe.organisation_id);
    match change {
        SocieteChange::Created => {
            let payload = contract::SocieteCreated {
                societe: snapshot,
                changed_by: by,
            };
            record_event(tx, &payload, org, correlation, None).await
        }
        SocieteChange::Updated => {
            let payload = contract::SocieteUpdated {
                societe: snapshot,
                changed_by: by,
            };
            record_event(tx, &payload, org, correlation, None).await
        }
        SocieteChange::Deleted => {
            let payload = contract::SocieteDeleted {
                societe: snapshot,
                changed_by: by,
            };
            record_event(tx, &payload, org, correlation, None).await
        }
    }
}

/// The membership events (invited, joined, role changed, removed).
async fn record_member(
    tx: &mut PgConnection,
    correlation: Option<&str>,
    event: CoreEvent<'_>,
) -> Result<()> {
    match event {
        CoreEvent::MemberInvited {
            invitation,
            sealed_token,
        } => {
            let payload = contract::MemberInvited {
                invitation_id: invitation.id,
                email: invitation.email.clone(),
                role: member_role(invitation.role),
                invited_by: invitation.invited_by,
                expires_at: invitation.expires_at,
                sealed_token,
            };
            record_event(tx, &payload, invitation.organisation_id, correlation, None).await
        }
        CoreEvent::MemberRoleChanged {
            organisation_id,
            user_id,
            role,
            by,
        } => {
            let payload = contract::MemberRoleChanged {
                user_id,
                role: member_role(role),
                changed_by: by,
            };
            record_event(tx, &payload, organisation_id, correlation, None).await
        }
        CoreEvent::MemberRemoved {
            organisation_id,
            user_id,
            by,
        } => {
            let payload = contract::MemberRemoved {
                user_id,
                removed_by: by,
            };
            record_event(tx, &payload, organisation_id, correlation, None).await
        }
        CoreEvent::MemberJoined {
            organisation_id,
            user_id,
            role,
            invitation_id,
        } => {
            let payload = contract::MemberJoined {
                user_id,
                role: member_role(role),
                invitation_id,
            };
            record_event(tx, &payload, organisation_id, correlation, None).await
        }
        CoreEvent::ClientCreated { .. }
        | CoreEvent::ClientUpdated { .. }
        | CoreEvent::OrganisationCreated { .. }
        | CoreEvent::SocieteChanged { .. }
        | CoreEvent::SignUpRequested { .. }
        | CoreEvent::SignUpOfExistingAccount { .. }
        | CoreEvent::PasswordResetRequested { .. } => {
            Err(crate::error::Error::internal("not a membership event"))
        }
    }
}
