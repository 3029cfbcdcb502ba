//! Engagement's consumer of logistics' events, `engagement-shipments`: every letter leaves a
//! trace on its client's timeline (an activity of type `POSTAL_MAIL`, recorded by the system),
//! and a letter delivered, returned or failed notifies the member who asked for it — or the
//! organisation's owners and admins when an event did (an invoice posted by its setting).
//! The transaction marks the event processed, so a redelivery adds nothing; live
//! announcements go out once it committed.

use crm_events::{
    directory::MemberRole,
    event_set,
    logistics::{ShipmentCreated, ShipmentStatusChanged, ShipmentSummary},
};
use sqlx::PgConnection;
use subgraph_kit::{
    consumer::{Handler, HandlerError},
    directory::members_with_roles,
    events::{Envelope, EventsSettings},
};
use uuid::Uuid;

use crate::db::{self, activity::NewActivity, notification::NotificationRow};

/// The activity type of letters.
const ACTIVITY_TYPE: (&str, &str) = ("POSTAL_MAIL", "Courrier");

event_set! {
    /// Logistics' events engagement hears.
    pub enum ShipmentEvent {
        ShipmentCreated(ShipmentCreated),
        ShipmentStatusChanged(ShipmentStatusChanged),
    }
}

/// Timeline activities and notifications from letters.
pub struct ShipmentsHandler {
    pub nats: async_nats::Client,
    pub events: EventsSettings,
}

fn letter(s: &ShipmentSummary) -> &'static str {
    match s.kind.as_str() {
        "REGISTERED_LETTER" => "Lettre recommandée",
        _ => "Lettre simple",
    }
}

fn what(s: &ShipmentSummary) -> &'static str {
    match s.reason.as_str() {
        "INVOICE" => " (facture)",
        "WELCOME_LETTER" => " (lettre de bienvenue)",
        _ => "",
    }
}

/// What a status means on the timeline, and the notification it deserves, if any.
fn status_text(status: &str) -> Option<(&'static str, Option<(&'static str, &'static str)>)> {
    Some(match status {
        "SUBMITTED" => ("remise à Maileva", None),
        "ACCEPTED" => ("acceptée par Maileva", None),
        "PROCESSED" => ("remise à La Poste", None),
        "DELIVERED" => (
            "distribuée",
            Some(("SHIPMENT_DELIVERED", "Courrier distribué")),
        ),
        "RETURNED" => (
            "revenue à l'expéditeur",
            Some(("SHIPMENT_RETURNED", "Courrier retourné")),
        ),
        "REJECTED" => (
            "refusée par Maileva",
            Some(("SHIPMENT_FAILED", "Courrier refusé")),
        ),
        "FAILED" => (
            "n'a pas pu être envoyée",
            Some(("SHIPMENT_FAILED", "Courrier non envoyé")),
        ),
        "CANCELLED" => ("annulée", None),
        _ => return None,
    })
}

impl Handler for ShipmentsHandler {
    type Events = ShipmentEvent;
    type Output = Vec<NotificationRow>;

    async fn committed(&self, created: Vec<NotificationRow>) {
        crate::events::announce(&self.nats, &self.events, &created).await;
    }

    async fn handle(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope,
        event: ShipmentEvent,
    ) -> Result<Vec<NotificationRow>, HandlerError> {
        match event {
            ShipmentEvent::ShipmentCreated(created) => {
                let s = &created.shipment;
                let subject = format!(
                    "{}{} à {} : en préparation",
                    letter(s),
                    what(s),
                    s.recipient_name
                );
                timeline(tx, envelope, s, &subject, None).await?;
                Ok(Vec::new())
            }
            ShipmentEvent::ShipmentStatusChanged(changed) => {
                let s = &changed.shipment;
                let Some((text, notice)) = status_text(&s.status) else {
                    return Ok(Vec::new());
                };
                let subject = format!("{}{} à {} : {text}", letter(s), what(s), s.recipient_name);
                let comment = match (&changed.error, &s.tracking_number) {
                    (Some(error), _) => Some(error.clone()),
                    (None, Some(number)) => Some(format!("Numéro de suivi : {number}")),
                    (None, None) => None,
                };
                timeline(tx, envelope, s, &subject, comment.as_deref()).await?;
                match notice {
                    Some((kind, title)) => notify(tx, envelope, s, kind, title, &subject).await,
                    None => Ok(Vec::new()),
                }
            }
        }
    }
}

async fn timeline(
    tx: &mut PgConnection,
    envelope: &Envelope,
    s: &ShipmentSummary,
    subject: &str,
    comment: Option<&str>,
) -> Result<(), HandlerError> {
    let org = envelope.organisation_id;
    let type_id = db::activity::type_id(tx, org, ACTIVITY_TYPE.0, ACTIVITY_TYPE.1).await?;
    let subject: String = subject.chars().take(200).collect();
    db::activity::insert_activity(
        &mut *tx,
        org,
        None,
        NewActivity {
            type_id,
            occurred_at: envelope.occurred_at,
            subject: &subject,
            comment,
            client_id: Some(s.client_id),
            contract_id: s.contract_id,
        },
    )
    .await?;
    Ok(())
}

async fn notify(
    tx: &mut PgConnection,
    envelope: &Envelope,
    s: &ShipmentSummary,
    kind: &str,
    title: &str,
    message: &str,
) -> Result<Vec<NotificationRow>, HandlerError> {
    let org = envelope.organisation_id;
    let recipients: Vec<Uuid> = match s.created_by {
        Some(user) => vec![user],
        None => members_with_roles(&mut *tx, org, &[MemberRole::Owner, MemberRole::Admin]).await?,
    };
    let link = format!("/clients/{}", s.client_id);
    let mut created = Vec::new();
    for user_id in recipients {
        let inserted = db::notification::insert_notification(
            &mut *tx,
            db::notification::NewNotification {
                organisation_id: org,
                user_id,
                kind,
                title,
                message,
                link: Some(&link),
                metadata: serde_json::json!({
                    "client_id": s.client_id,
                    "shipment_id": s.shipment_id,
                    "invoice_id": s.invoice_id,
                    "status": s.status,
                }),
                source_event_id: Some(envelope.id),
            },
        )
        .await?;
        created.extend(inserted);
    }
    Ok(created)
}
