//! The events core publishes, with their payloads (version 1). Each is recorded in the
//! transaction of the change it describes; the relay publishes it to
//! `crm.events.<type>` on JetStream. The catalogue is in the README.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use subgraph_kit::{events::Envelope, Role};
use uuid::Uuid;

use crate::{
    db::{client::ClientRow, invitation::InvitationRow, societe::SocieteRow},
    domain::client::{ClientKind, ClientStatus},
    error::Result,
};

/// A client as events carry it: what consumers need without calling back.
#[derive(Debug, Serialize)]
pub struct ClientSnapshot<'a> {
    pub client_id: Uuid,
    pub kind: &'static str,
    pub status: &'static str,
    pub name: &'a str,
    pub first_name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub birth_date: Option<NaiveDate>,
    pub societe_id: Option<Uuid>,
    pub siren: Option<&'a str>,
    pub vat_number: Option<&'a str>,
    pub payment_terms_days: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set when the client was moved to the bin.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl<'a> From<&'a ClientRow> for ClientSnapshot<'a> {
    fn from(c: &'a ClientRow) -> Self {
        Self {
            client_id: c.id,
            kind: match c.kind {
                ClientKind::Person => "PERSON",
                ClientKind::Company => "COMPANY",
            },
            status: match c.status {
                ClientStatus::Prospect => "PROSPECT",
                ClientStatus::Active => "ACTIVE",
                ClientStatus::Inactive => "INACTIVE",
                ClientStatus::Suspended => "SUSPENDED",
            },
            name: &c.name,
            first_name: c.first_name.as_deref(),
            email: c.email.as_deref(),
            phone: c.phone.as_deref(),
            birth_date: c.birth_date,
            societe_id: c.societe_id,
            siren: c.siren.as_deref(),
            vat_number: c.vat_number.as_deref(),
            payment_terms_days: c.payment_terms_days,
            created_at: c.created_at,
            updated_at: c.updated_at,
            deleted_at: c.deleted_at,
        }
    }
}

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
    /// Someone was invited. The token is the invitation's secret, for the e-mail that
    /// carries it: consumers must not log or store it.
    MemberInvited {
        invitation: &'a InvitationRow,
        token: &'a str,
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
}

impl CoreEvent<'_> {
    fn envelope(&self, correlation_id: Option<&str>) -> serde_json::Result<Envelope> {
        use serde_json::json;
        match self {
            CoreEvent::ClientCreated { client, by } => Envelope::new(
                "client.created",
                1,
                client.organisation_id,
                correlation_id,
                json!({"client": ClientSnapshot::from(*client), "created_by": by}),
            ),
            CoreEvent::ClientUpdated { client, by } => Envelope::new(
                "client.updated",
                1,
                client.organisation_id,
                correlation_id,
                json!({"client": ClientSnapshot::from(*client), "updated_by": by}),
            ),
            CoreEvent::SocieteChanged {
                societe,
                change,
                by,
            } => Envelope::new(
                match change {
                    SocieteChange::Created => "societe.created",
                    SocieteChange::Updated => "societe.updated",
                    SocieteChange::Deleted => "societe.deleted",
                },
                1,
                societe.organisation_id,
                correlation_id,
                json!({
                    "societe": {
                        "societe_id": societe.id, "name": societe.name, "siren": societe.siren,
                        "siret": societe.siret, "vat_number": societe.vat_number,
                    },
                    "changed_by": by,
                }),
            ),
            CoreEvent::OrganisationCreated {
                organisation_id,
                name,
                owner_id,
            } => Envelope::new(
                "organisation.created",
                1,
                *organisation_id,
                correlation_id,
                json!({"organisation_id": organisation_id, "name": name, "owner_id": owner_id}),
            ),
            CoreEvent::MemberInvited { invitation, token } => Envelope::new(
                "member.invited",
                1,
                invitation.organisation_id,
                correlation_id,
                json!({
                    "invitation_id": invitation.id, "email": invitation.email,
                    "role": invitation.role, "invited_by": invitation.invited_by,
                    "expires_at": invitation.expires_at, "token": token,
                }),
            ),
            CoreEvent::MemberRoleChanged {
                organisation_id,
                user_id,
                role,
                by,
            } => Envelope::new(
                "member.role_changed",
                1,
                *organisation_id,
                correlation_id,
                json!({"user_id": user_id, "role": role, "changed_by": by}),
            ),
            CoreEvent::MemberRemoved {
                organisation_id,
                user_id,
                by,
            } => Envelope::new(
                "member.removed",
                1,
                *organisation_id,
                correlation_id,
                json!({"user_id": user_id, "removed_by": by}),
            ),
            CoreEvent::MemberJoined {
                organisation_id,
                user_id,
                role,
                invitation_id,
            } => Envelope::new(
                "member.joined",
                1,
                *organisation_id,
                correlation_id,
                json!({"user_id": user_id, "role": role, "invitation_id": invitation_id}),
            ),
        }
    }
}

/// Records `event` in the caller's transaction, correlated with the request `correlation_id`.
pub async fn record(
    tx: &mut PgConnection,
    correlation_id: &str,
    event: CoreEvent<'_>,
) -> Result<()> {
    let mut envelope = event
        .envelope(Some(correlation_id))
        .map_err(|e| anyhow::anyhow!("cannot serialise an event: {e}"))?;
    // Client events carry the client's billing address (the default one, else the first),
    // which invoices start from.
    if let CoreEvent::ClientCreated { client, .. } | CoreEvent::ClientUpdated { client, .. } =
        &event
    {
        let billing =
            crate::db::address::billing_address(&mut *tx, client.organisation_id, client.id)
                .await?;
        envelope.payload["client"]["billing_address"] = match billing {
            Some(a) => serde_json::json!({
                "line1": a.line1, "line2": a.line2, "postal_code": a.postal_code,
                "city": a.city, "country": a.country,
            }),
            None => serde_json::Value::Null,
        };
    }
    subgraph_kit::events::record(tx, &envelope).await?;
    Ok(())
}
