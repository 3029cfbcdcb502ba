//! Invitations to join an organisation, identified by the SHA-256 of their token.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, Row};
use subgraph_kit::Role;
use uuid::Uuid;

use super::role_from_db;
use crate::domain::invitation::InvitationStatus;

/// The stored status; `EXPIRED` is derived from `expires_at` and never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "invitation_status", rename_all = "lowercase")]
pub enum StoredInvitationStatus {
    Pending,
    Accepted,
    Rejected,
    Revoked,
    /// Set when a pending invitation past its expiry is superseded by a new one.
    Expired,
}

#[derive(Debug, Clone)]
pub struct InvitationRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub email: String,
    pub role: Role,
    pub status: StoredInvitationStatus,
    pub invited_by: Uuid,
    pub expires_at: DateTime<Utc>,
    pub responded_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl InvitationRow {
    /// Its status now: a pending invitation past its expiry is expired.
    pub fn status_now(&self) -> InvitationStatus {
        match self.status {
            StoredInvitationStatus::Pending if self.expires_at <= Utc::now() => {
                InvitationStatus::Expired
            }
            StoredInvitationStatus::Pending => InvitationStatus::Pending,
            StoredInvitationStatus::Accepted => InvitationStatus::Accepted,
            StoredInvitationStatus::Rejected => InvitationStatus::Rejected,
            StoredInvitationStatus::Revoked => InvitationStatus::Revoked,
            StoredInvitationStatus::Expired => InvitationStatus::Expired,
        }
    }
}

impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for InvitationRow {
    fn from_row(row: &'r sqlx::postgres::PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row.try_get("id")?,
            organisation_id: row.try_get("organisation_id")?,
            email: row.try_get("email")?,
            role: role_from_db(row.try_get("role")?)?,
            status: row.try_get("status")?,
            invited_by: row.try_get("invited_by")?,
            expires_at: row.try_get("expires_at")?,
            responded_at: row.try_get("responded_at")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

const COLUMNS: &str =
    "id, organisation_id, email, role::text as role, status, invited_by, expires_at, responded_at, created_at";

pub struct NewInvitation<'a> {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub email: &'a str,
    pub role: Role,
    pub token_hash: &'a [u8],
    pub invited_by: Uuid,
    pub expires_at: DateTime<Utc>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_invitation(
    db: impl PgExecutor<'_>,
    new: NewInvitation<'_>,
) -> sqlx::Result<InvitationRow> {
    sqlx::query_as(&format!(
        "insert into invitations (id, organisation_id, email, role, token_hash, invited_by, expires_at)
         values ($1, $2, $3, $4::member_role, $5, $6, $7) returning {COLUMNS}"
    ))
    .bind(new.id)
    .bind(new.organisation_id)
    .bind(new.email)
    .bind(new.role.as_str())
    .bind(new.token_hash)
    .bind(new.invited_by)
    .bind(new.expires_at)
    .fetch_one(db)
    .await
}

/// The invitation with this token hash, locked for the responding transaction.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn lock_invitation_by_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> sqlx::Result<Option<InvitationRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from invitations where token_hash = $1 for update"
    ))
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// An invitation of `organisation_id`, locked.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn lock_invitation(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<InvitationRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from invitations where organisation_id = $1 and id = $2 for update"
    ))
    .bind(organisation_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn list_invitations(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    status: Option<StoredInvitationStatus>,
) -> sqlx::Result<Vec<InvitationRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from invitations
         where organisation_id = $1 and ($2::invitation_status is null or status = $2)
         order by created_at desc, id"
    ))
    .bind(organisation_id)
    .bind(status)
    .fetch_all(db)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_invitation_status(
    db: impl PgExecutor<'_>,
    id: Uuid,
    status: StoredInvitationStatus,
) -> sqlx::Result<InvitationRow> {
    sqlx::query_as(&format!(
        "update invitations set status = $2, responded_at = now() where id = $1 returning {COLUMNS}"
    ))
    .bind(id)
    .bind(status)
    .fetch_one(db)
    .await
}

/// Marks the pending invitations of `email` that are past their expiry as expired, so a new
/// invitation can take their place.
#[tracing::instrument(level = "debug", skip_all, fields(%organisation_id))]
pub async fn expire_stale_invitations(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    email: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update invitations set status = 'expired'
         where organisation_id = $1 and email = $2 and status = 'pending' and expires_at <= now()",
    )
    .bind(organisation_id)
    .bind(email)
    .execute(db)
    .await?;
    Ok(())
}

/// Constraint refusing a second pending invitation for the same e-mail.
pub const PENDING_EMAIL_CONSTRAINT: &str = "invitations_pending_email_key";
