//! Engagement's consumer of core's events: it keeps the members projection and notifies the
//! organisation's owners and admins of new clients. It runs in the transaction that marks the
//! event processed, so a redelivery never notifies twice.

use sqlx::PgConnection;
use subgraph_kit::{
    consumer::{ConsumerSpec, Handler, HandlerError},
    events::{Envelope, EventsSettings},
};
use uuid::Uuid;

use crate::db::{self, notification::NotificationRow, task::TaskRow};

/// The live topic that feeds `notificationAdded`.
pub const NOTIFICATIONS_TOPIC: &str = "notifications";
/// The live topic that feeds `taskChanged`.
pub const TASKS_TOPIC: &str = "tasks";

/// The durable consumer of this module.
pub fn notifications_consumer() -> ConsumerSpec {
    ConsumerSpec::new(
        "engagement-notifications",
        &[
            "organisation.created",
            "member.invited",
            "member.joined",
            "member.role_changed",
            "member.removed",
            "client.created",
        ],
    )
}

/// Publishes committed notifications on their recipients' live subjects. Best effort: the
/// notifications are stored, and a client that missed one catches up by query.
pub async fn announce(
    nats: &async_nats::Client,
    events: &EventsSettings,
    created: &[NotificationRow],
) {
    for row in created {
        let subject = events.live_subject(row.organisation_id, row.user_id, NOTIFICATIONS_TOPIC);
        let published = match serde_json::to_vec(row) {
            Ok(body) => nats
                .publish(subject, body.into())
                .await
                .map_err(anyhow::Error::from),
            Err(err) => Err(err.into()),
        };
        if let Err(err) = published {
            tracing::warn!(notification = %row.id, error = %err, "cannot announce a notification live");
        }
    }
}

/// Publishes a committed task change to the people it concerns: its creator, its assignee,
/// and the assignee it just lost. Best effort, like notifications.
pub async fn announce_task(
    nats: &async_nats::Client,
    events: &EventsSettings,
    task: &TaskRow,
    previous_assignee: Option<Uuid>,
) {
    let mut recipients = vec![task.created_by];
    recipients.extend(task.assignee_id);
    recipients.extend(previous_assignee);
    recipients.sort_unstable();
    recipients.dedup();
    let Ok(body) = serde_json::to_vec(task) else {
        return;
    };
    for user in recipients {
        let subject = events.live_subject(task.organisation_id, user, TASKS_TOPIC);
        if let Err(err) = nats.publish(subject, body.clone().into()).await {
            tracing::warn!(task = %task.id, error = %err, "cannot announce a task change live");
        }
    }
}

/// Keeps the members projection, creates notifications and queues e-mail (welcome, invitation);
/// once committed, announces each new notification on its recipient's live subject.
pub struct NotificationsHandler {
    pub nats: async_nats::Client,
    pub events: EventsSettings,
    /// The web application's base URL, for links in e-mails.
    pub app_url: String,
}

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
    type Output = Vec<NotificationRow>;

    async fn committed(&self, created: Vec<NotificationRow>) {
        for row in created {
            let subject =
                self.events
                    .live_subject(row.organisation_id, row.user_id, NOTIFICATIONS_TOPIC);
            let published = match serde_json::to_vec(&row) {
                Ok(body) => self
                    .nats
                    .publish(subject, body.into())
                    .await
                    .map_err(anyhow::Error::from),
                Err(err) => Err(err.into()),
            };
            // Live delivery is best effort: the notification is stored, clients catch up by query.
            if let Err(err) = published {
                tracing::warn!(notification = %row.id, error = %err, "cannot announce a notification live");
            }
        }
    }

    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &Envelope,
    ) -> Result<Vec<NotificationRow>, HandlerError> {
        let org = event.organisation_id;
        let mut created = Vec::new();
        match event.event_type.as_str() {
            "organisation.created" => {
                db::member::upsert_member(
                    &mut *tx,
                    org,
                    uuid_field(event, &["owner_id"])?,
                    "OWNER",
                )
                .await?;
                db::activity::ensure_default_types(&mut *tx, org).await?;
            }
            "member.joined" | "member.role_changed" => {
                let role = str_field(event, &["role"])?;
                db::member::upsert_member(&mut *tx, org, uuid_field(event, &["user_id"])?, role)
                    .await?;
            }
            "member.removed" => {
                db::member::delete_member(&mut *tx, org, uuid_field(event, &["user_id"])?).await?;
            }
            "member.invited" => {
                let email = str_field(event, &["email"])?;
                let token = str_field(event, &["token"])?;
                let body = format!(
                    "Bonjour,\n\nVous êtes invité(e) à rejoindre une organisation sur le CRM.\n\n\
                     Pour accepter l'invitation : {}/invitations/{token}\n\n\
                     Ce lien expire dans quelques jours. Si vous n'attendiez pas cette invitation, \
                     ignorez ce message.\n",
                    self.app_url.trim_end_matches('/')
                );
                db::email::queue_email(
                    &mut *tx,
                    db::email::NewEmail {
                        organisation_id: org,
                        recipient: email,
                        subject: "Invitation à rejoindre le CRM",
                        body_text: &body,
                        template: "invitation",
                        source_event_id: Some(event.id),
                    },
                )
                .await?;
            }
            "client.created" => {
                if let Some(email) = event.payload["client"]["email"].as_str() {
                    let greeting = match event.payload["client"]["first_name"].as_str() {
                        Some(first) => format!("Bonjour {first},"),
                        None => "Bonjour,".to_owned(),
                    };
                    let body = format!(
                        "{greeting}\n\nNous sommes heureux de vous compter parmi nos clients. \
                         Votre interlocuteur reste à votre disposition pour toute question.\n\n\
                         Bien cordialement,\n"
                    );
                    db::email::queue_email(
                        &mut *tx,
                        db::email::NewEmail {
                            organisation_id: org,
                            recipient: email,
                            subject: "Bienvenue",
                            body_text: &body,
                            template: "welcome",
                            source_event_id: Some(event.id),
                        },
                    )
                    .await?;
                }
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
                    let inserted = db::notification::insert_notification(
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
                    created.extend(inserted);
                }
            }
            other => {
                return Err(HandlerError::Permanent(anyhow::anyhow!(
                    "unexpected event type {other}"
                )));
            }
        }
        Ok(created)
    }
}
