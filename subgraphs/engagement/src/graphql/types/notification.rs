//! Notifications: a user's own, paged newest first, marked read one by one or all at once.

use async_graphql::{Context, Enum, Object, ID};
use chrono::{DateTime, Utc};
use subgraph_kit::{
    pagination::{build_page, Keyset, Page, PageRequest},
    Role,
};

use super::entities::Client;
use crate::graphql::{parse_id, parts};
use crate::{
    db::{self, notification::NotificationRow},
    error::{Error, Result},
};

/// What a notification is about.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum NotificationKind {
    NewClient,
    NewContract,
    ContractExpiring,
    ContractExpired,
    UnpaidInvoice,
    TaskAssigned,
    Reminder,
    Alert,
    Info,
    System,
    /// A letter was delivered (or its acknowledgement of receipt signed).
    ShipmentDelivered,
    /// A letter came back to the sender.
    ShipmentReturned,
    /// A letter could not be sent, or the carrier rejected it.
    ShipmentFailed,
}

impl NotificationKind {
    fn from_db(value: &str) -> Self {
        match value {
            "NEW_CLIENT" => Self::NewClient,
            "NEW_CONTRACT" => Self::NewContract,
            "CONTRACT_EXPIRING" => Self::ContractExpiring,
            "CONTRACT_EXPIRED" => Self::ContractExpired,
            "UNPAID_INVOICE" => Self::UnpaidInvoice,
            "TASK_ASSIGNED" => Self::TaskAssigned,
            "REMINDER" => Self::Reminder,
            "ALERT" => Self::Alert,
            "SYSTEM" => Self::System,
            "SHIPMENT_DELIVERED" => Self::ShipmentDelivered,
            "SHIPMENT_RETURNED" => Self::ShipmentReturned,
            "SHIPMENT_FAILED" => Self::ShipmentFailed,
            _ => Self::Info,
        }
    }
}

/// Something a user should know, with a link into the application.
pub struct Notification(pub NotificationRow);

#[Object]
impl Notification {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn kind(&self) -> NotificationKind {
        NotificationKind::from_db(&self.0.kind)
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn message(&self) -> &str {
        &self.0.message
    }
    /// Where the application shows the subject (`/clients/…`).
    async fn link(&self) -> Option<&str> {
        self.0.link.as_deref()
    }
    /// Extra data, as JSON.
    async fn metadata(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(self.0.metadata.clone())
    }
    /// The client it is about, if any.
    async fn client(&self) -> Option<Client> {
        self.0.metadata["client_id"].as_str().map(|id| Client {
            id: ID(id.to_owned()),
        })
    }
    async fn read(&self) -> bool {
        self.0.read_at.is_some()
    }
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

fn keyset(row: &NotificationRow) -> Keyset {
    Keyset::instant(row.created_at, row.id)
}

pub(super) async fn own_notifications(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    unread_only: bool,
) -> Result<Page<Notification>> {
    let (state, request) = parts(ctx);
    let tenant = request.tenant()?;
    let page = PageRequest::parse(first, after)?;
    let (rows, total) = db::notification::list_notifications_page(
        &state.pool,
        tenant.organisation_id,
        tenant.user_id,
        unread_only,
        &page,
    )
    .await?;
    Ok(build_page(&page, rows, total, keyset, Notification))
}

pub(super) async fn own_unread_count(ctx: &Context<'_>) -> Result<i64> {
    let (state, request) = parts(ctx);
    let tenant = request.tenant()?;
    Ok(db::notification::unread_count(&state.pool, tenant.organisation_id, tenant.user_id).await?)
}

#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// The caller's notifications, newest first.
    #[graphql(
        complexity = "subgraph_kit::pagination::cost(first, child_complexity)",
        directive = subgraph_kit::cost::paged::apply()
    )]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        unread_only: Option<bool>,
    ) -> Result<Page<Notification>> {
        own_notifications(ctx, first, after, unread_only.unwrap_or(false)).await
    }

    /// How many of the caller's notifications are unread.
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> Result<i64> {
        own_unread_count(ctx).await
    }
}

#[derive(Default)]
pub struct NotificationMutation;

#[Object]
impl NotificationMutation {
    /// Marks one of the caller's notifications read (again is fine).
    async fn mark_notification_read(&self, ctx: &Context<'_>, id: ID) -> Result<Notification> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let id = parse_id("id", &id)?;
        db::notification::mark_read(&state.pool, tenant.organisation_id, tenant.user_id, id)
            .await?
            .map(Notification)
            .ok_or(Error::not_found("notification"))
    }

    /// Marks all the caller's notifications read; returns how many were unread.
    async fn mark_all_notifications_read(&self, ctx: &Context<'_>) -> Result<i64> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let changed =
            db::notification::mark_all_read(&state.pool, tenant.organisation_id, tenant.user_id)
                .await?;
        Ok(i64::try_from(changed).unwrap_or(i64::MAX))
    }

    /// Deletes the organisation's read notifications older than `days` (admins).
    async fn purge_read_notifications(&self, ctx: &Context<'_>, days: i32) -> Result<i64> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        if !(1..=3650).contains(&days) {
            return Err(Error::Invalid(subgraph_kit::error::Invalid::new(
                "days",
                "between 1 and 3650",
            )));
        }
        let purged =
            db::notification::purge_read_older_than(&state.pool, tenant.organisation_id, days)
                .await?;
        Ok(i64::try_from(purged).unwrap_or(i64::MAX))
    }
}
