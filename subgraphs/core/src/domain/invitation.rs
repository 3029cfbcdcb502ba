//! Where an invitation stands, as clients see it: a pending invitation past its expiry is
//! expired, whatever is stored.

/// Where an invitation stands.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Rejected,
    Revoked,
    Expired,
}
