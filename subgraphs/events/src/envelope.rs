//! What travels on the bus: an event of one organisation, with its type, version and
//! correlation, around a JSON payload. Money in payloads is a decimal string, never a float.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Event;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Unique per event; the idempotency key of every consumer.
    pub id: Uuid,
    /// `<aggregate>.<verb>`, e.g. `client.created`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// Version of the payload's schema for this type.
    pub version: u32,
    pub organisation_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// The request that caused the event (its `x-request-id`).
    pub correlation_id: Option<String>,
    /// The event that caused this one, when a consumer emits it.
    pub causation_id: Option<Uuid>,
    /// W3C `traceparent` of the causing request, when traced.
    pub trace_context: Option<String>,
    pub payload: serde_json::Value,
}

/// Why a delivery does not decode into the payload a consumer expects. Retrying never helps.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("unexpected event type {0}")]
    UnexpectedType(String),
    #[error("{event_type} v{found} is not a version this consumer reads (v{expected})")]
    UnexpectedVersion {
        event_type: String,
        found: u32,
        expected: u32,
    },
    #[error("unexpected {event_type} v{version} payload: {source}")]
    Malformed {
        event_type: String,
        version: u32,
        source: serde_json::Error,
    },
}

impl Envelope {
    /// A new event of `organisation_id` carrying `payload`, correlated with the request
    /// `correlation_id`.
    ///
    /// # Errors
    /// When the payload does not serialise to JSON (a map with non-string keys, say).
    pub fn of<E: Event>(
        payload: &E,
        organisation_id: Uuid,
        correlation_id: Option<&str>,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: Uuid::now_v7(),
            event_type: E::TYPE.to_owned(),
            version: E::VERSION,
            organisation_id,
            occurred_at: Utc::now(),
            correlation_id: correlation_id.map(str::to_owned),
            causation_id: None,
            trace_context: None,
            payload: serde_json::to_value(payload)?,
        })
    }

    /// The same event, caused by the event `causation_id` (for events consumers emit).
    #[must_use]
    pub fn caused_by(mut self, causation_id: Option<Uuid>) -> Self {
        self.causation_id = causation_id;
        self
    }

    /// The payload as `E`, provided the type and version are `E`'s.
    ///
    /// # Errors
    /// When the type or version differ, or the payload does not match `E`.
    pub fn payload_as<E: Event>(&self) -> Result<E, PayloadError> {
        if self.event_type != E::TYPE {
            return Err(PayloadError::UnexpectedType(self.event_type.clone()));
        }
        if self.version != E::VERSION {
            return Err(PayloadError::UnexpectedVersion {
                event_type: self.event_type.clone(),
                found: self.version,
                expected: E::VERSION,
            });
        }
        serde_json::from_value(self.payload.clone()).map_err(|source| PayloadError::Malformed {
            event_type: self.event_type.clone(),
            version: self.version,
            source,
        })
    }
}
