//! Engagement's consumer of core's events, `engagement-notifications`: it keeps the kit's
//! directory projection (members, clients, sociétés) and, in the same transaction, notifies
//! the organisation's owners and admins of new clients and queues e-mail (welcome,
//! invitation, and the account e-mails: sign-up confirmation, password reset). The transaction marks the event processed, so a redelivery never notifies
//! twice; live announcements go out once it committed.

use crm_events::{
    directory::{
        ClientCreated, ClientUpdated, MemberInvited, MemberJoined, MemberRemoved, MemberRole,
        MemberRoleChanged, OrganisationCreated, PasswordResetRequested, SignUpOfExistingAccount,
        SignUpRequested, SocieteCreated, SocieteDeleted, SocieteUpdated,
    },
    event_set, EventSet,
};
use sqlx::PgConnection;
use subgraph_kit::{
    consumer::{Handler, HandlerError},
    directory::{members_with_roles, DirectoryEvent, DirectoryHandler},
    events::{Envelope, EventsSettings},
};
use uuid::Uuid;

use crate::db::{self, notification::NotificationRow, task::TaskRow};

/// The live topic that feeds `notificationAdded`.
pub const NOTIFICATIONS_TOPIC: &str = "notifications";
/// The live topic that feeds `taskChanged`.
pub const TASKS_TOPIC: &str = "tasks";

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

event_set! {
    /// Core's events engagement hears: its directory projection's, the invitations and the
    /// account e-mails.
    pub enum CoreEvent {
        OrganisationCreated(OrganisationCreated),
        MemberInvited(MemberInvited),
        MemberJoined(MemberJoined),
        MemberRoleChanged(MemberRoleChanged),
        MemberRemoved(MemberRemoved),
        ClientCreated(ClientCreated),
        ClientUpdated(ClientUpdated),
        SocieteCreated(SocieteCreated),
        SocieteUpdated(SocieteUpdated),
        SocieteDeleted(SocieteDeleted),
        SignUpRequested(SignUpRequested),
        SignUpOfExistingAccount(SignUpOfExistingAccount),
        PasswordResetRequested(PasswordResetRequested),
    }
}

/// Keeps the directory projection, creates notifications and queues e-mail; once committed,
/// announces each new notification on its recipient's live subject. The projection is kept
/// by this consumer (not a second one) so that a new client's notification always finds the
/// members the same stream told about before it.
pub struct NotificationsHandler {
    pub nats: async_nats::Client,
    pub events: EventsSettings,
    /// The web application's base URL, for links in e-mails.
    pub app_url: String,
    pub directory: DirectoryHandler<()>,
}

impl Handler for NotificationsHandler {
    type Events = CoreEvent;
    type Output = Vec<NotificationRow>;

    async fn committed(&self, created: Vec<NotificationRow>) {
        announce(&self.nats, &self.events, &created).await;
    }

    async fn handle(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope,
        event: CoreEvent,
    ) -> Result<Vec<NotificationRow>, HandlerError> {
        if let Ok(change) = DirectoryEvent::decode(envelope) {
            self.directory.apply(tx, envelope, change).await?;
        }
        let org = envelope.organisation_id;
        match event {
            CoreEvent::OrganisationCreated(_) => {
                db::activity::ensure_default_types(&mut *tx, org).await?;
                Ok(Vec::new())
            }
            CoreEvent::MemberInvited(invited) => {
                self.invitation_email(tx, envelope, &invited).await?;
                Ok(Vec::new())
            }
            CoreEvent::SignUpRequested(asked) => {
                self.sign_up_email(tx, envelope, &asked).await?;
                Ok(Vec::new())
            }
            CoreEvent::SignUpOfExistingAccount(asked) => {
                self.existing_account_email(tx, envelope, &asked).await?;
                Ok(Vec::new())
            }
            CoreEvent::PasswordResetRequested(asked) => {
                self.password_reset_email(tx, envelope, &asked).await?;
                Ok(Vec::new())
            }
            CoreEvent::ClientCreated(created) => new_client(tx, envelope, &created).await,
            CoreEvent::MemberJoined(_)
            | CoreEvent::MemberRoleChanged(_)
            | CoreEvent::MemberRemoved(_)
            | CoreEvent::ClientUpdated(_)
            | CoreEvent::SocieteCreated(_)
            | CoreEvent::SocieteUpdated(_)
            | CoreEvent::SocieteDeleted(_) => Ok(Vec::new()),
        }
    }
}

impl NotificationsHandler {
    fn link(&self, path: &str) -> String {
        format!("{}/{path}", self.app_url.trim_end_matches('/'))
    }

    async fn sign_up_email(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope,
        asked: &SignUpRequested,
    ) -> sqlx::Result<()> {
        let body = format!(
            "Bonjour {},\n\nPour confirmer la création de votre compte sur le CRM, ouvrez ce \
             lien (valable 24 heures) et saisissez le mot de passe choisi :\n{}\n\n\
             Si vous n'avez rien demandé, ignorez ce message : aucun compte ne sera créé.\n",
            asked.first_name,
            self.link(&format!(
                "sign-up/confirm/{}",
                db::email::SECRET_PLACEHOLDER
            )),
        );
        queue_account_email(
            tx,
            envelope,
            &asked.email,
            "Confirmez la création de votre compte",
            &body,
            "sign_up_confirmation",
            Some(&asked.sealed_token),
        )
        .await
    }

    async fn existing_account_email(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope,
        asked: &SignUpOfExistingAccount,
    ) -> sqlx::Result<()> {
        let body = format!(
            "Bonjour {},\n\nQuelqu'un a demandé à créer un compte sur le CRM avec votre \
             adresse, qui a déjà un compte. Si c'était vous, connectez-vous : {}\n\
             Mot de passe oublié ? {}\n\nSinon, ignorez ce message : rien n'a changé.\n",
            asked.first_name,
            self.link("login"),
            self.link("password-reset"),
        );
        queue_account_email(
            tx,
            envelope,
            &asked.email,
            "Vous avez déjà un compte",
            &body,
            "existing_account",
            None,
        )
        .await
    }

    async fn password_reset_email(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope,
        asked: &PasswordResetRequested,
    ) -> sqlx::Result<()> {
        let body = format!(
            "Bonjour {},\n\nPour choisir un nouveau mot de passe, ouvrez ce lien (valable une \
             heure, une seule fois) :\n{}\n\nSi vous n'avez rien demandé, ignorez ce message : \
             votre mot de passe reste le même.\n",
            asked.first_name,
            self.link(&format!("password-reset/{}", db::email::SECRET_PLACEHOLDER)),
        );
        queue_account_email(
            tx,
            envelope,
            &asked.email,
            "Réinitialisation de votre mot de passe",
            &body,
            "password_reset",
            Some(&asked.sealed_token),
        )
        .await
    }

    async fn invitation_email(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope,
        invited: &MemberInvited,
    ) -> sqlx::Result<()> {
        let body = format!(
            "Bonjour,\n\nVous êtes invité(e) à rejoindre une organisation sur le CRM.\n\n\
             Pour accepter l'invitation : {}/invitations/{}\n\n\
             Ce lien expire dans quelques jours. Si vous n'attendiez pas cette invitation, \
             ignorez ce message.\n",
            self.app_url.trim_end_matches('/'),
            db::email::SECRET_PLACEHOLDER,
        );
        queue_account_email(
            tx,
            envelope,
            &invited.email,
            "Invitation à rejoindre le CRM",
            &body,
            "invitation",
            Some(&invited.sealed_token),
        )
        .await
    }
}

/// Queues an account e-mail caused by `envelope` (one per event whatever the redeliveries).
async fn queue_account_email(
    tx: &mut PgConnection,
    envelope: &Envelope,
    recipient: &str,
    subject: &str,
    body: &str,
    template: &str,
    sealed_secret: Option<&str>,
) -> sqlx::Result<()> {
    db::email::queue_email(
        &mut *tx,
        db::email::NewEmail {
            organisation_id: envelope.organisation_id,
            recipient,
            subject,
            body_text: body,
            template,
            source_event_id: Some(envelope.id),
            sealed_secret,
        },
    )
    .await?;
    Ok(())
}

/// A new client: a welcome e-mail when it has an address, a `NEW_CLIENT` notification to the
/// organisation's owners and admins.
async fn new_client(
    tx: &mut PgConnection,
    envelope: &Envelope,
    created: &ClientCreated,
) -> Result<Vec<NotificationRow>, HandlerError> {
    let org = envelope.organisation_id;
    let client = &created.client;
    if let Some(email) = &client.email {
        let greeting = match &client.first_name {
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
                source_event_id: Some(envelope.id),
                sealed_secret: None,
            },
        )
        .await?;
    }
    let message = format!("{} a été ajouté à vos clients.", client.display_name());
    let link = format!("/clients/{}", client.client_id);
    let mut created_rows = Vec::new();
    for user_id in
        members_with_roles(&mut *tx, org, &[MemberRole::Owner, MemberRole::Admin]).await?
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
                metadata: serde_json::json!({"client_id": client.client_id}),
                source_event_id: Some(envelope.id),
            },
        )
        .await?;
        created_rows.extend(inserted);
    }
    Ok(created_rows)
}
