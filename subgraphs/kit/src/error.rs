//! Stable error codes, shared by every subgraph so clients see one vocabulary, and
//! `ServiceError`, the error enum of the subgraphs that need no variant of their own.
//!
//! A subgraph with errors of its own (core's bad credentials, say) has its own `Error` enum
//! and maps each variant to one of these codes with an exhaustive match. Client errors carry a
//! message that is safe to show; internal errors reach the client only as `INTERNAL`,
//! "Internal server error", while their cause is logged once with the request id.

use async_graphql::ErrorExtensions;

/// The `extensions.code` of every GraphQL error we return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// No valid identity: missing, expired or forged token.
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
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

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

/// Whether `err` is a violation of the named database constraint. Subgraphs turn these into
/// client errors in one place instead of matching on messages.
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

/// A subgraph's errors, in two groups: client errors, whose message is safe to show, and
/// internal errors, which reach the client masked as `INTERNAL` while their cause is logged.
///
/// It deliberately does not implement `Display`: async-graphql converts any `Display` type
/// into a GraphQL error with its message only, which would drop the code. Without it, the
/// `From` impl below is the only conversion there is.
#[derive(Debug)]
pub enum ServiceError {
    // --- client errors ---
    Access(crate::server::AccessError),
    Forbidden(String),
    NotFound {
        entity: &'static str,
    },
    Invalid(Invalid),
    Conflict {
        message: String,
        /// The existing entity the input collides with, when there is one to show.
        existing_id: Option<uuid::Uuid>,
    },
    InvalidTransition(String),

    // --- internal errors ---
    Database(sqlx::Error),
    Internal(anyhow::Error),
}

impl ServiceError {
    pub fn not_found(entity: &'static str) -> Self {
        ServiceError::NotFound { entity }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ServiceError::Conflict {
            message: message.into(),
            existing_id: None,
        }
    }
}

impl From<crate::server::AccessError> for ServiceError {
    fn from(err: crate::server::AccessError) -> Self {
        ServiceError::Access(err)
    }
}

impl From<Invalid> for ServiceError {
    fn from(err: Invalid) -> Self {
        ServiceError::Invalid(err)
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(err: sqlx::Error) -> Self {
        ServiceError::Database(err)
    }
}

impl From<anyhow::Error> for ServiceError {
    fn from(err: anyhow::Error) -> Self {
        ServiceError::Internal(err)
    }
}

impl From<ServiceError> for async_graphql::Error {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Access(access) => coded(access.code(), access.to_string()),
            ServiceError::Forbidden(message) => coded(ErrorCode::Forbidden, message),
            ServiceError::NotFound { entity } => {
                coded(ErrorCode::NotFound, format!("{entity} not found"))
            }
            ServiceError::Invalid(invalid) => validation(&invalid.field, invalid.message),
            ServiceError::Conflict {
                message,
                existing_id,
            } => {
                let error = coded(ErrorCode::Conflict, message);
                match existing_id {
                    Some(id) => error.extend_with(|_, ext| ext.set("existingId", id.to_string())),
                    None => error,
                }
            }
            ServiceError::InvalidTransition(message) => {
                coded(ErrorCode::InvalidTransition, message)
            }
            ServiceError::Database(err) => internal(&err),
            ServiceError::Internal(err) => internal(err.as_ref()),
        }
    }
}
