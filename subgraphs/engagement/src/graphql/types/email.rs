//! The e-mail the organisation's events caused, with each message's delivery status (admins).

use async_graphql::{Context, Enum, Object, ID};
use chrono::{DateTime, Utc};
use subgraph_kit::{error::Invalid, Role};

use crate::graphql::parts;
use crate::{
    db::{self, email::EmailRow},
    error::Result,
};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum EmailStatus {
    /// Queued or waiting for a retry.
    Pending,
    Sent,
    /// Given up after repeated or permanent failures.
    Failed,
}

impl EmailStatus {
    fn as_str(self) -> &'static str {
        match self {
            EmailStatus::Pending => "PENDING",
            EmailStatus::Sent => "SENT",
            EmailStatus::Failed => "FAILED",
        }
    }
}

pub struct Email(pub EmailRow);

#[Object]
impl Email {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn recipient(&self) -> &str {
        &self.0.recipient
    }
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    /// `welcome`, `invitation`…
    async fn template(&self) -> &str {
        &self.0.template
    }
    async fn status(&self) -> EmailStatus {
        match self.0.status.as_str() {
            "SENT" => EmailStatus::Sent,
            "FAILED" => EmailStatus::Failed,
            _ => EmailStatus::Pending,
        }
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// The relay's last refusal, if any.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.0.sent_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(Default)]
pub struct EmailQuery;

#[Object]
impl EmailQuery {
    /// The organisation's latest messages, optionally in one status (admins). A person's
    /// account e-mails (sign-up confirmation, password reset) are theirs and not listed.
    async fn emails(
        &self,
        ctx: &Context<'_>,
        status: Option<EmailStatus>,
        #[graphql(default = 50)] last: i32,
    ) -> Result<Vec<Email>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        if !(1..=200).contains(&last) {
            return Err(Invalid::new("last", "between 1 and 200").into());
        }
        let rows = db::email::list_emails(
            &state.pool,
            tenant.organisation_id,
            status.map(EmailStatus::as_str),
            i64::from(last),
        )
        .await?;
        Ok(rows.into_iter().map(Email).collect())
    }
}
