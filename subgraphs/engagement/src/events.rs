//! Engagement's consumer of core's events: it keeps the members projection and notifies the
//! organisation's owners and admins of new clients. It runs in the transaction that marks the
//! event processed, so a redelivery never notifies twice.

use sqlx::PgConnection;
use subgraph_kit::{
    consumer::{ConsumerSpec, Handler, HandlerError},
    events::Envelope,
};
use uuid::Uuid;

use crate::db;

/// The durable consumer of this module.
pub fn notifications_consumer() -> ConsumerSpec {
    ConsumerSpec::new(
        "engagement-notifications",
        &[
            "organisation.created",
            "member.joined",
            "member.role_changed",
            "member.removed",
            "client.created",
        ],
    )
}

pub struct NotificationsHandler;

fn field<'a>(event: &'a Envelope, path: &[&str]) -> Result<&'a serde_json::Value, HandlerError> {
    let mut value = &event.payload;
    for key in path {
        value = value.get(key).ok_or_else(|| {
            HandlerError::Permanent(anyhow::anyhow!(
                "{} v{} lacks {}",
                event.event_type,
                event.version,
                path.join(".")
            ))
        })?;
    }
    Ok(value)
}

fn uuid_field(event: &Envelope, path: &[&str]) -> Result<Uuid, HandlerError> {
    field(event, path)?
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| HandlerError::Permanent(anyhow::anyhow!("{} is not a UUID", path.join("."))))
}

fn str_field<'a>(event: &'a Envelope, path: &[&str]) -> Result<&'a str, HandlerError> {
    field(event, path)?.as_str().ok_or_else(|| {
        HandlerError::Permanent(anyhow::anyhow!("{} is not a string", path.join(".")))
    })
}

impl Handler for NotificationsHandler {
    async fn handle(&self, tx: &mut PgConnection, event: &Envelope) -> Result<(), HandlerError> {
        let org = event.organisation_id;
        match event.event_type.as_str() {
            "organisation.created" => {
                db::member::upsert_member(
                    &mut *tx,
                    org,
                    uuid_field(event, &["owner_id"])?,
                    "OWNER",
                )
                .await?;
            }
            "member.joined" | "member.role_changed" => {
                let role = str_field(event, &["role"])?;
                db::member::upsert_member(&mut *tx, org, uuid_field(event, &["user_id"])?, role)
                    .await?;
            }
            "member.removed" => {
                db::member::delete_member(&mut *tx, org, uuid_field(event, &["user_id"])?).await?;
            }
            "client.created" => {
                let client_id = uuid_field(event, &["client", "client_id"])?;
                let name = str_field(event, &["client", "name"])?;
                let display = match event.payload["client"]["first_name"].as_str() {
                    Some(first) => format!("{first} {name}"),
                    None => name.to_owned(),
                };
                let message = format!("{display} a été ajouté à vos clients.");
                let link = format!("/clients/{client_id}");
                for user_id in
                    db::member::members_with_roles(&mut *tx, org, &["OWNER", "ADMIN"]).await?
                {
                    db::notification::insert_notification(
                        &mut *tx,
                        db::notification::NewNotification {
                            organisation_id: org,
                            user_id,
                            kind: "NEW_CLIENT",
                            title: "Nouveau client",
                            message: &message,
                            link: Some(&link),
                            metadata: serde_json::json!({"client_id": client_id}),
                            source_event_id: Some(event.id),
                        },
                    )
                    .await?;
                }
            }
            other => {
                return Err(HandlerError::Permanent(anyhow::anyhow!(
                    "unexpected event type {other}"
                )));
            }
        }
        Ok(())
    }
}
