//! The commercial subgraph's errors, in two groups: client errors, whose message is safe to show,
//! and internal errors, which reach the client masked as `INTERNAL` while their cause is
//! logged. Every variant maps to a stable `extensions.code` by an exhaustive match.
//!
//! `Error` deliberately does not implement `Display`: async-graphql converts any `Display`
//! type into a GraphQL error with its message only, which would drop the code. Without it,
//! the `From` impl below is the only conversion there is.

use async_graphql::ErrorExtensions;
use subgraph_kit::{
    error::{coded, internal, validation, Invalid},
    server::AccessError,
    ErrorCode,
};
use uuid::Uuid;

#[derive(Debug)]
pub enum Error {
    // --- client errors ---
    Access(AccessError),
    Forbidden(String),
    NotFound {
        entity: &'static str,
    },
    Invalid(Invalid),
    Conflict {
        message: String,
        /// The existing entity the input collides with, when there is one to show.
        existing_id: Option<Uuid>,
    },
    InvalidTransition(String),

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
            Error::Forbidden(message) => coded(ErrorCode::Forbidden, message),
            Error::NotFound { entity } => coded(ErrorCode::NotFound, format!("{entity} not found")),
            Error::Invalid(invalid) => validation(&invalid.field, invalid.message),
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
            Error::Database(err) => internal(&err),
            Error::Internal(err) => internal(err.as_ref()),
        }
    }
}
