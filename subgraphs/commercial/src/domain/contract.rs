//! Contracts: a real status enum with guarded transitions (the legacy `statut` was free
//! text), billing frequencies, and what signing requires.

use async_graphql::Enum;

/// Where a contract is in its life.
///
/// `DRAFT → SIGNED → ACTIVE ⇄ SUSPENDED → TERMINATED`; `CANCELLED` from DRAFT or SIGNED;
/// `EXPIRED` when the end date has passed (set by the expiry job).
#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[sqlx(type_name = "contract_status", rename_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ContractStatus {
    Draft,
    Signed,
    Active,
    Suspended,
    /// Résilié.
    Terminated,
    Cancelled,
    Expired,
}

impl ContractStatus {
    /// The statuses this one may move to.
    pub fn successors(self) -> &'static [ContractStatus] {
        use ContractStatus::*;
        match self {
            Draft => &[Signed, Cancelled],
            Signed => &[Active, Cancelled, Expired],
            Active => &[Suspended, Terminated, Expired],
            Suspended => &[Active, Terminated, Expired],
            Terminated | Cancelled | Expired => &[],
        }
    }

    /// `Ok(next)` when the lifecycle allows it; otherwise the message of an
    /// `INVALID_TRANSITION` error.
    pub fn transition(self, next: ContractStatus) -> Result<ContractStatus, String> {
        if self.successors().contains(&next) {
            Ok(next)
        } else {
            Err(format!(
                "a contract cannot go from {} to {}",
                self.label(),
                next.label()
            ))
        }
    }

    /// Lines, dates and amounts can change only while a draft.
    pub fn is_editable(self) -> bool {
        self == ContractStatus::Draft
    }

    pub fn label(self) -> &'static str {
        use ContractStatus::*;
        match self {
            Draft => "DRAFT",
            Signed => "SIGNED",
            Active => "ACTIVE",
            Suspended => "SUSPENDED",
            Terminated => "TERMINATED",
            Cancelled => "CANCELLED",
            Expired => "EXPIRED",
        }
    }
}

#[derive(Enum, sqlx::Type, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[sqlx(type_name = "billing_frequency", rename_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BillingFrequency {
    Monthly,
    Quarterly,
    Semiannual,
    Annual,
    /// Billed once.
    OneTime,
}

impl BillingFrequency {
    pub fn label(self) -> &'static str {
        use BillingFrequency::*;
        match self {
            Monthly => "MONTHLY",
            Quarterly => "QUARTERLY",
            Semiannual => "SEMIANNUAL",
            Annual => "ANNUAL",
            OneTime => "ONE_TIME",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ContractStatus::{self, *};

    const ALL: [ContractStatus; 7] = [
        Draft, Signed, Active, Suspended, Terminated, Cancelled, Expired,
    ];

    #[test]
    fn the_lifecycle_is_the_documented_one() {
        assert!(Draft.transition(Signed).is_ok());
        assert!(Signed.transition(Active).is_ok());
        assert!(Active.transition(Suspended).is_ok());
        assert!(Suspended.transition(Active).is_ok());
        assert!(Suspended.transition(Terminated).is_ok());
        assert!(Draft.transition(Cancelled).is_ok());
        assert!(Signed.transition(Cancelled).is_ok());
        assert!(Active.transition(Cancelled).is_err());
        assert!(Draft.transition(Active).is_err());
        assert_eq!(
            Active.transition(Draft).unwrap_err(),
            "a contract cannot go from ACTIVE to DRAFT"
        );
    }

    #[test]
    fn final_statuses_go_nowhere_and_nothing_returns_to_draft() {
        for status in [Terminated, Cancelled, Expired] {
            assert!(ALL.iter().all(|next| status.transition(*next).is_err()));
        }
        assert!(ALL.iter().all(|from| from.transition(Draft).is_err()));
        assert!(ALL.iter().all(|from| from.transition(*from).is_err()));
    }
}
