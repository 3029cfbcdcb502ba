//! The one error type of every subgraph, and the stable codes clients see.
//!
//! Two groups of variants (the hive router's split): client errors, whose message is safe to
//! show, and internal errors, which reach the client only as `INTERNAL` ("Internal server
//! error") while their whole cause chain is logged once. Every variant maps to a code by an
//! exhaustive match, so a new variant forces a decision.

use async_graphql::ErrorExtensions;
use uuid::Uuid;

use crate::server::AccessError;

/// The `extensions.code` of every GraphQL error we return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// No valid identity: missing, expired or forged token, or wrong credentials.
    Unauthenticated,
    /// Authenticated, but the caller's role or organisation does not allow it.
    Forbidden,
    /// The entity does not exist in the caller's organisation.
    NotFound,
    /// The input is malformed or breaks a rule; `extensions.field` names the input field.
    Validation,
    /// The change collides with existing data (duplicates, used tokens, races).
    Conflict,
    /// A status change that the entity's lifecycle forbids.
    InvalidTransition,
    /// A time-limited thing (an invitation, a token) is past its validity.
    Expired,
    /// Too many attempts: `extensions.retryAfter` (and the `Retry-After` header) says in how
    /// many seconds to try again. Or too many at once (subscriptions on one connection):
    /// without `retryAfter`, end one first.
    RateLimited,
    /// Something failed on our side; details are in the logs, never in the response.
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Validation => "VALIDATION",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::InvalidTransition => "INVALID_TRANSITION",
            ErrorCode::Expired => "EXPIRED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

/// The extension of a `RATE_LIMITED` error saying in how many seconds to try again.
pub const RETRY_AFTER_EXTENSION: &str = "retryAfter";

/// A GraphQL error with `extensions.code`.
pub fn coded(code: ErrorCode, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", code.as_str()))
}

/// A `VALIDATION` error naming the offending input field.
pub fn validation(field: &str, message: impl Into<String>) -> async_graphql::Error {
    coded(ErrorCode::Validation, message).extend_with(|_, ext| ext.set("field", field))
}

/// The masked form of an internal error. Logs `cause` with its whole chain, once.
pub fn internal(cause: &(dyn std::error::Error + 'static)) -> async_graphql::Error {
    let mut chain = cause.to_string();
    let mut source = cause.source();
    while let Some(inner) = source {
        chain.push_str(": ");
        chain.push_str(&inner.to_string());
        source = inner.source();
    }
    tracing::error!(error = %chain, "internal error");
    coded(ErrorCode::Internal, "Internal server error")
}

/// Whether `err` is a violation of the named database constraint.
pub fn is_constraint_violation(err: &sqlx::Error, constraint: &str) -> bool {
    match err {
        sqlx::Error::Database(db) => db.constraint() == Some(constraint),
        _ => false,
    }
}

/// A rule broken by an input field; becomes a `VALIDATION` error naming that field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every subgraph's error.
///
/// It deliberately does not implement `Display`: async-graphql converts any `Display` type
/// into a GraphQL error with its message only, which would drop the code. Without it, the
/// `From` impl below is the only conversion there is.
#[derive(Debug)]
pub enum Error {
    // --- client errors ---
    Access(AccessError),
    /// Wrong e-mail or password (never says which).
    BadCredentials,
    /// A refresh token that is unknown, expired, revoked or already used: log in again.
    SessionEnded,
    Forbidden(String),
    NotFound {
        entity: &'static str,
    },
    Invalid(Invalid),
    /// Several rules broken at once (an invoice's compliance problems): one `VALIDATION`
    /// error whose `field` names the first and whose `extensions.problems` lists them all.
    Problems {
        summary: String,
        problems: Vec<Invalid>,
    },
    Conflict {
        message: String,
        /// The existing entity the input collides with, when there is one to show.
        existing_id: Option<Uuid>,
    },
    InvalidTransition(String),
    Expired(String),
    /// Too many attempts; try again in that many seconds.
    RateLimited {
        retry_after_seconds: u64,
    },

    // --- internal errors ---
    Database(sqlx::Error),
    Internal(anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn not_found(entity: &'static str) -> Self {
        Error::NotFound { entity }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict {
            message: message.into(),
            existing_id: None,
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid(Invalid::new(field, message))
    }

    /// An internal error from a message (logged, masked).
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Error::Internal(anyhow::anyhow!("{message}"))
    }
}

impl From<AccessError> for Error {
    fn from(err: AccessError) -> Self {
        Error::Access(err)
    }
}

impl From<Invalid> for Error {
    fn from(err: Invalid) -> Self {
        Error::Invalid(err)
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Error::Database(err)
    }
}

impl From<anyhow::Error> for Error {
    fn from(err: anyhow::Error) -> Self {
        Error::Internal(err)
    }
}

impl From<Error> for async_graphql::Error {
    fn from(err: Error) -> Self {
        match err {
            Error::Access(access) => coded(access.code(), access.to_string()),
            Error::BadCredentials => coded(ErrorCode::Unauthenticated, "wrong e-mail or password"),
            Error::SessionEnded => coded(
                ErrorCode::Unauthenticated,
                "this session has ended: log in again",
            ),
            Error::Forbidden(message) => coded(ErrorCode::Forbidden, message),
            Error::NotFound { entity } => coded(ErrorCode::NotFound, format!("{entity} not found")),
            Error::Invalid(invalid) => validation(&invalid.field, invalid.message),
            Error::Problems { summary, problems } => problems_error(&summary, &problems),
            Error::Conflict {
                message,
                existing_id,
            } => {
                let error = coded(ErrorCode::Conflict, message);
                match existing_id {
                    Some(id) => error.extend_with(|_, ext| ext.set("existingId", id.to_string())),
                    None => error,
                }
            }
            Error::InvalidTransition(message) => coded(ErrorCode::InvalidTransition, message),
            Error::Expired(message) => coded(ErrorCode::Expired, message),
            Error::RateLimited {
                retry_after_seconds,
            } => coded(
                ErrorCode::RateLimited,
                format!("too many attempts: try again in {retry_after_seconds} s"),
            )
            .extend_with(|_, ext| ext.set(RETRY_AFTER_EXTENSION, retry_after_seconds)),
            Error::Database(err) => internal(&err),
            Error::Internal(err) => internal(err.as_ref()),
        }
    }
}

fn problems_error(summary: &str, problems: &[Invalid]) -> async_graphql::Error {
    use async_graphql::{indexmap::IndexMap, Name, Value};
    let first = problems
        .first()
        .map(|p| p.field.clone())
        .unwrap_or_default();
    let message = problems
        .iter()
        .map(|p| format!("{}: {}", p.field, p.message))
        .collect::<Vec<_>>()
        .join("; ");
    let list = problems
        .iter()
        .map(|p| {
            let mut map = IndexMap::new();
            map.insert(Name::new("field"), Value::from(p.field.clone()));
            map.insert(Name::new("message"), Value::from(p.message.clone()));
            Value::Object(map)
        })
        .collect();
    validation(&first, format!("{summary}: {message}"))
        .extend_with(|_, ext| ext.set("problems", Value::List(list)))
}

/// Turns a named constraint violation into a client error, in one place instead of matching
/// on messages (realworld's `on_constraint`):
///
/// ```ignore
/// db::product::insert(&mut tx, &new)
///     .await
///     .on_constraint(db::product::SKU_KEY, |_| Error::conflict("this SKU is taken"))?;
/// ```
pub trait ResultExt<T> {
    /// When the error violates `constraint`, replaces it with `map(violation)`.
    fn on_constraint(
        self,
        constraint: &str,
        map: impl FnOnce(&dyn sqlx::error::DatabaseError) -> Error,
    ) -> Result<T>;
}

impl<T, E: Into<Error>> ResultExt<T> for Result<T, E> {
    fn on_constraint(
        self,
        constraint: &str,
        map: impl FnOnce(&dyn sqlx::error::DatabaseError) -> Error,
    ) -> Result<T> {
        self.map_err(|err| match err.into() {
            Error::Database(sqlx::Error::Database(db)) if db.constraint() == Some(constraint) => {
                map(db.as_ref())
            }
            other => other,
        })
    }
}
