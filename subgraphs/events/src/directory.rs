//! Core's events: the tenant's directory — organisations, members, clients and sociétés —
//! which the other subgraphs project to check the ids their inputs name — and the account
//! e-mails core asks the mailer for (sign-up confirmation, password reset).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::events;

events! {
    OrganisationCreated => "organisation.created", version 1;
    ClientCreated => "client.created", version 1;
    ClientUpdated => "client.updated", version 1;
    SocieteCreated => "societe.created", version 1;
    SocieteUpdated => "societe.updated", version 1;
    SocieteDeleted => "societe.deleted", version 1;
    MemberInvited => "member.invited", version 2;
    MemberJoined => "member.joined", version 1;
    MemberRoleChanged => "member.role_changed", version 1;
    MemberRemoved => "member.removed", version 1;
    SignUpRequested => "sign_up.requested", version 1;
    SignUpOfExistingAccount => "sign_up.existing_account", version 1;
    PasswordResetRequested => "password_reset.requested", version 1;
}

/// A member's role in an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MemberRole {
    Viewer,
    Member,
    Admin,
    Owner,
}

impl MemberRole {
    /// The upper-case name projections store.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Viewer => "VIEWER",
            MemberRole::Member => "MEMBER",
            MemberRole::Admin => "ADMIN",
            MemberRole::Owner => "OWNER",
        }
    }
}

/// An organisation was created by its first owner (`signUp`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganisationCreated {
    pub organisation_id: Uuid,
    pub name: String,
    pub owner_id: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClientKind {
    Person,
    Company,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClientStatus {
    Prospect,
    Active,
    Inactive,
    Suspended,
}

/// A client as events (and core's directory routes) carry it: what the other subgraphs need
/// without calling back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientSnapshot {
    pub client_id: Uuid,
    pub kind: ClientKind,
    pub status: ClientStatus,
    /// Last name of a person, legal name of a company.
    pub name: String,
    pub first_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub societe_id: Option<Uuid>,
    pub siren: Option<String>,
    pub vat_number: Option<String>,
    pub payment_terms_days: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set while the client is in the bin.
    pub deleted_at: Option<DateTime<Utc>>,
    /// The default billing address, else the first one; what invoices start from.
    #[serde(default)]
    pub billing_address: Option<BillingAddress>,
}

impl ClientSnapshot {
    /// "First Last" for a person, the name for a company.
    pub fn display_name(&self) -> String {
        match &self.first_name {
            Some(first) => format!("{first} {}", self.name),
            None => self.name.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BillingAddress {
    pub line1: String,
    pub line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// A client was created (`createClient`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientCreated {
    pub client: ClientSnapshot,
    pub created_by: Uuid,
}

/// A client's fields or addresses changed, or it was moved to the bin or restored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientUpdated {
    pub client: ClientSnapshot,
    pub updated_by: Uuid,
}

/// A société (legal entity of the organisation) as events carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocieteSnapshot {
    pub societe_id: Uuid,
    pub name: String,
    pub siren: String,
    pub siret: Option<String>,
    pub vat_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocieteCreated {
    pub societe: SocieteSnapshot,
    pub changed_by: Uuid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocieteUpdated {
    pub societe: SocieteSnapshot,
    pub changed_by: Uuid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocieteDeleted {
    pub societe: SocieteSnapshot,
    pub changed_by: Uuid,
}

/// Someone was invited. The invitation's token is its secret: it travels sealed for the mailer
/// alone (`subgraph_kit::sealed`), which opens it only to send the e-mail, never to store it.
/// Version 2: version 1 carried the token in clear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberInvited {
    pub invitation_id: Uuid,
    pub email: String,
    pub role: MemberRole,
    pub invited_by: Uuid,
    pub expires_at: DateTime<Utc>,
    /// `sealed.v1.…`: the token, sealed with the mailer's key.
    pub sealed_token: String,
}

/// Someone joined through an invitation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberJoined {
    pub user_id: Uuid,
    pub role: MemberRole,
    pub invitation_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRoleChanged {
    pub user_id: Uuid,
    pub role: MemberRole,
    pub changed_by: Uuid,
}

/// A member left or was removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRemoved {
    pub user_id: Uuid,
    pub removed_by: Uuid,
}

/// Someone asked for an account: the confirmation link's token travels sealed for the mailer
/// alone. The envelope's organisation is the one the confirmation will create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignUpRequested {
    pub email: String,
    pub first_name: String,
    pub expires_at: DateTime<Utc>,
    /// `sealed.v1.…`: the token, sealed with the mailer's key.
    pub sealed_token: String,
}

/// Someone asked for an account with the e-mail of an existing one: its owner is told (log in,
/// or reset the password), and the answer to the sign-up said nothing. The envelope's
/// organisation is the user's oldest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignUpOfExistingAccount {
    pub user_id: Uuid,
    pub email: String,
    pub first_name: String,
}

/// A user asked to reset a forgotten password: the link's token travels sealed for the mailer
/// alone. The envelope's organisation is the user's oldest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordResetRequested {
    pub user_id: Uuid,
    pub email: String,
    pub first_name: String,
    pub expires_at: DateTime<Utc>,
    /// `sealed.v1.…`: the token, sealed with the mailer's key.
    pub sealed_token: String,
}

/// A member as core's directory route returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberSnapshot {
    pub user_id: Uuid,
    pub role: MemberRole,
}
