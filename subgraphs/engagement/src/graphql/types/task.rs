//! Tasks: created, assigned, moved through their statuses, listed by due date with overdue and
//! due-soon views and per-status stats; and the `Client.tasks` engagement adds to core's Client.

use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use chrono::{DateTime, Duration, Utc};
use subgraph_kit::{
    error::Invalid,
    pagination::{build_page, Keyset, Page, PageRequest},
    server::RequestContext,
    Role,
};
use uuid::Uuid;

use super::entities::{Client, User};
use crate::graphql::{parse_id, parts, EngagementState};
use crate::{
    db::{
        self,
        notification::NewNotification,
        task::{TaskFields, TaskFilter, TaskRow},
    },
    domain::TaskStatus,
    error::{Error, Result},
};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TaskKind {
    Call,
    Email,
    Meeting,
    FollowUp,
    Dunning,
    Other,
}

impl TaskKind {
    fn as_str(self) -> &'static str {
        match self {
            TaskKind::Call => "CALL",
            TaskKind::Email => "EMAIL",
            TaskKind::Meeting => "MEETING",
            TaskKind::FollowUp => "FOLLOW_UP",
            TaskKind::Dunning => "DUNNING",
            TaskKind::Other => "OTHER",
        }
    }

    fn parse(value: &str) -> Self {
        [
            Self::Call,
            Self::Email,
            Self::Meeting,
            Self::FollowUp,
            Self::Dunning,
        ]
        .into_iter()
        .find(|k| k.as_str() == value)
        .unwrap_or(Self::Other)
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TaskPriority {
    Low,
    Normal,
    High,
    Urgent,
}

impl TaskPriority {
    fn as_str(self) -> &'static str {
        match self {
            TaskPriority::Low => "LOW",
            TaskPriority::Normal => "NORMAL",
            TaskPriority::High => "HIGH",
            TaskPriority::Urgent => "URGENT",
        }
    }

    fn parse(value: &str) -> Self {
        [Self::Low, Self::High, Self::Urgent]
            .into_iter()
            .find(|p| p.as_str() == value)
            .unwrap_or(Self::Normal)
    }
}

/// A piece of work for someone in the organisation.
pub struct Task(pub TaskRow);

#[Object]
impl Task {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn kind(&self) -> TaskKind {
        TaskKind::parse(&self.0.kind)
    }
    async fn priority(&self) -> TaskPriority {
        TaskPriority::parse(&self.0.priority)
    }
    async fn status(&self) -> TaskStatus {
        TaskStatus::parse(&self.0.status).unwrap_or(TaskStatus::Todo)
    }
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.0.due_at
    }
    /// Open and past its due date.
    async fn overdue(&self) -> bool {
        let open = TaskStatus::parse(&self.0.status).is_some_and(TaskStatus::is_open);
        open && self.0.due_at.is_some_and(|due| due < Utc::now())
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
    async fn assignee(&self) -> Option<User> {
        self.0.assignee_id.map(|id| User {
            id: ID(id.to_string()),
        })
    }
    async fn created_by(&self) -> User {
        User {
            id: ID(self.0.created_by.to_string()),
        }
    }
    async fn client(&self) -> Option<Client> {
        self.0.client_id.map(|id| Client {
            id: ID(id.to_string()),
        })
    }
    /// The commercial subgraph's contract (an id until that subgraph exists).
    async fn contract_id(&self) -> Option<ID> {
        self.0.contract_id.map(|id| ID(id.to_string()))
    }
    /// The finance subgraph's invoice (an id until that subgraph exists).
    async fn invoice_id(&self) -> Option<ID> {
        self.0.invoice_id.map(|id| ID(id.to_string()))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(InputObject)]
pub struct CreateTaskInput {
    pub title: String,
    pub description: Option<String>,
    #[graphql(default_with = "TaskKind::Other")]
    pub kind: TaskKind,
    #[graphql(default_with = "TaskPriority::Normal")]
    pub priority: TaskPriority,
    pub due_at: Option<DateTime<Utc>>,
    /// A member of the organisation; they are notified.
    pub assignee_id: Option<ID>,
    pub client_id: Option<ID>,
    pub contract_id: Option<ID>,
    pub invoice_id: Option<ID>,
}

/// Fields to change; omitted fields stay, `null` clears an optional one.
#[derive(InputObject)]
pub struct UpdateTaskInput {
    pub title: Option<String>,
    pub description: MaybeUndefined<String>,
    pub kind: Option<TaskKind>,
    pub priority: Option<TaskPriority>,
    pub due_at: MaybeUndefined<DateTime<Utc>>,
    pub assignee_id: MaybeUndefined<ID>,
    pub client_id: MaybeUndefined<ID>,
    pub contract_id: MaybeUndefined<ID>,
    pub invoice_id: MaybeUndefined<ID>,
}

#[derive(InputObject, Default)]
pub struct TaskFilterInput {
    pub status: Option<TaskStatus>,
    pub assignee_id: Option<ID>,
    pub client_id: Option<ID>,
    /// Only open tasks past their due date.
    #[graphql(default)]
    pub overdue: bool,
    /// Only open tasks due within this many days (overdue ones included).
    pub due_within_days: Option<i32>,
}

/// How many tasks are in each status, and how many open ones are late.
#[derive(SimpleObject)]
pub struct TaskStats {
    pub todo: i64,
    pub in_progress: i64,
    pub done: i64,
    pub cancelled: i64,
    pub overdue: i64,
    pub total: i64,
}

fn keyset(row: &TaskRow) -> Keyset {
    Keyset {
        key: row.due_at.map_or(serde_json::Value::Null, |d| {
            serde_json::Value::String(d.to_rfc3339())
        }),
        id: row.id,
    }
}

fn optional_id(field: &str, id: Option<&ID>) -> Result<Option<Uuid>> {
    id.map(|id| parse_id(field, id)).transpose()
}

fn clean_title(value: &str) -> Result<String> {
    let title = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() || title.chars().count() > 200 {
        return Err(Invalid::new("title", "a title has 1 to 200 characters").into());
    }
    Ok(title)
}

fn clean_description(value: Option<String>) -> Result<Option<String>> {
    match value.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()) {
        Some(d) if d.chars().count() > 5000 => {
            Err(Invalid::new("description", "at most 5000 characters").into())
        }
        other => Ok(other),
    }
}

#[derive(Default)]
pub struct TaskQuery;

#[Object]
impl TaskQuery {
    /// The organisation's tasks by due date (undated last), filtered and paged.
    #[graphql(
        complexity = "subgraph_kit::pagination::cost(first, child_complexity)",
        directive = subgraph_kit::cost::paged::apply()
    )]
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<TaskFilterInput>,
    ) -> Result<Page<Task>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let page = PageRequest::parse(first, after)?;
        let filter = filter.unwrap_or_default();
        let open_and_due_before = match (filter.overdue, filter.due_within_days) {
            (_, Some(days)) if !(0..=365).contains(&days) => {
                return Err(Invalid::new("filter.dueWithinDays", "between 0 and 365").into())
            }
            (_, Some(days)) => Some(Utc::now() + Duration::days(i64::from(days))),
            (true, None) => Some(Utc::now()),
            (false, None) => None,
        };
        let list_filter = TaskFilter {
            status: filter.status.map(TaskStatus::as_str),
            assignee_id: optional_id("filter.assigneeId", filter.assignee_id.as_ref())?,
            client_id: optional_id("filter.clientId", filter.client_id.as_ref())?,
            open_and_due_before,
        };
        let (rows, total) =
            db::task::list_tasks_page(&state.pool, tenant.organisation_id, &list_filter, &page)
                .await?;
        Ok(build_page(&page, rows, total, keyset, Task))
    }

    async fn task(&self, ctx: &Context<'_>, id: ID) -> Result<Task> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let id = parse_id("id", &id)?;
        db::task::find_task(&state.pool, tenant.organisation_id, id)
            .await?
            .map(Task)
            .ok_or(Error::not_found("task"))
    }

    /// Counts per status, and overdue open tasks.
    async fn task_stats(&self, ctx: &Context<'_>) -> Result<TaskStats> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let (todo, in_progress, done, cancelled, overdue) =
            db::task::task_stats(&state.pool, tenant.organisation_id).await?;
        Ok(TaskStats {
            todo,
            in_progress,
            done,
            cancelled,
            overdue,
            total: todo + in_progress + done + cancelled,
        })
    }
}

#[derive(Default)]
pub struct TaskMutation;

#[Object]
impl TaskMutation {
    /// Creates a task (members). An assignee other than the creator is notified.
    async fn create_task(&self, ctx: &Context<'_>, input: CreateTaskInput) -> Result<Task> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let fields = TaskFields {
            title: clean_title(&input.title)?,
            description: clean_description(input.description)?,
            kind: input.kind.as_str(),
            priority: input.priority.as_str(),
            due_at: input.due_at,
            assignee_id: optional_id("assigneeId", input.assignee_id.as_ref())?,
            client_id: optional_id("clientId", input.client_id.as_ref())?,
            contract_id: optional_id("contractId", input.contract_id.as_ref())?,
            invoice_id: optional_id("invoiceId", input.invoice_id.as_ref())?,
        };
        let mut tx = state.pool.begin().await?;
        check_assignee(
            &mut tx,
            (state, request),
            tenant.organisation_id,
            fields.assignee_id,
        )
        .await?;
        let row = db::task::insert_task(&mut *tx, tenant.organisation_id, tenant.user_id, &fields)
            .await?;
        let notified = notify_assignee(&mut tx, &row, None, tenant.user_id).await?;
        tx.commit().await?;
        crate::events::announce(&state.nats, &state.events, &notified).await;
        crate::events::announce_task(&state.nats, &state.events, &row, None).await;
        Ok(Task(row))
    }

    /// Changes some of an open task's fields (members).
    async fn update_task(&self, ctx: &Context<'_>, id: ID, input: UpdateTaskInput) -> Result<Task> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let id = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        let current = db::task::lock_task(&mut *tx, tenant.organisation_id, id)
            .await?
            .ok_or(Error::not_found("task"))?;
        if !TaskStatus::parse(&current.status).is_some_and(TaskStatus::is_open) {
            return Err(Error::InvalidTransition(
                "a done or cancelled task cannot be edited".into(),
            ));
        }
        fn merge_id(
            field: &str,
            value: MaybeUndefined<ID>,
            current: Option<Uuid>,
        ) -> Result<Option<Uuid>> {
            match value {
                MaybeUndefined::Undefined => Ok(current),
                MaybeUndefined::Null => Ok(None),
                MaybeUndefined::Value(id) => parse_id(field, &id).map(Some),
            }
        }
        let fields = TaskFields {
            title: clean_title(input.title.as_deref().unwrap_or(&current.title))?,
            description: match input.description {
                MaybeUndefined::Undefined => current.description.clone(),
                MaybeUndefined::Null => None,
                MaybeUndefined::Value(d) => clean_description(Some(d))?,
            },
            kind: input
                .kind
                .unwrap_or(TaskKind::parse(&current.kind))
                .as_str(),
            priority: input
                .priority
                .unwrap_or(TaskPriority::parse(&current.priority))
                .as_str(),
            due_at: match input.due_at {
                MaybeUndefined::Undefined => current.due_at,
                MaybeUndefined::Null => None,
                MaybeUndefined::Value(due) => Some(due),
            },
            assignee_id: merge_id("assigneeId", input.assignee_id, current.assignee_id)?,
            client_id: merge_id("clientId", input.client_id, current.client_id)?,
            contract_id: merge_id("contractId", input.contract_id, current.contract_id)?,
            invoice_id: merge_id("invoiceId", input.invoice_id, current.invoice_id)?,
        };
        check_assignee(
            &mut tx,
            (state, request),
            tenant.organisation_id,
            fields.assignee_id,
        )
        .await?;
        let row = db::task::update_task(&mut *tx, tenant.organisation_id, id, &fields)
            .await?
            .ok_or(Error::not_found("task"))?;
        let notified = notify_assignee(&mut tx, &row, current.assignee_id, tenant.user_id).await?;
        tx.commit().await?;
        crate::events::announce(&state.nats, &state.events, &notified).await;
        let lost = current
            .assignee_id
            .filter(|previous| Some(*previous) != row.assignee_id);
        crate::events::announce_task(&state.nats, &state.events, &row, lost).await;
        Ok(Task(row))
    }

    /// Moves a task to another status (members): TODO and IN_PROGRESS back and forth, then DONE
    /// or CANCELLED, which are final.
    async fn change_task_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: TaskStatus,
    ) -> Result<Task> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let id = parse_id("id", &id)?;
        let mut tx = state.pool.begin().await?;
        let current = db::task::lock_task(&mut *tx, tenant.organisation_id, id)
            .await?
            .ok_or(Error::not_found("task"))?;
        let from = TaskStatus::parse(&current.status).unwrap_or(TaskStatus::Todo);
        if !from.can_become(status) {
            return Err(Error::InvalidTransition(format!(
                "a {} task cannot become {}",
                from.as_str(),
                status.as_str()
            )));
        }
        let row =
            db::task::set_status(&mut *tx, tenant.organisation_id, id, status.as_str()).await?;
        tx.commit().await?;
        crate::events::announce_task(&state.nats, &state.events, &row, None).await;
        Ok(Task(row))
    }
}

/// An assignee must be a member of the organisation.
async fn check_assignee(
    tx: &mut sqlx::PgConnection,
    (state, request): (&EngagementState, &RequestContext),
    organisation_id: Uuid,
    assignee: Option<Uuid>,
) -> Result<()> {
    if let Some(user) = assignee {
        let member = state
            .directory
            .has_member(tx, request, organisation_id, user)
            .await?;
        if !member {
            return Err(Invalid::new(
                "assigneeId",
                "the assignee is not a member of the organisation",
            )
            .into());
        }
    }
    Ok(())
}

/// Notifies a new assignee (not someone assigning themselves) in the task's transaction.
async fn notify_assignee(
    tx: &mut sqlx::PgConnection,
    task: &TaskRow,
    previous: Option<Uuid>,
    actor: Uuid,
) -> Result<Vec<db::notification::NotificationRow>> {
    let Some(assignee) = task
        .assignee_id
        .filter(|a| Some(*a) != previous && *a != actor)
    else {
        return Ok(Vec::new());
    };
    let link = format!("/tasks/{}", task.id);
    let inserted = db::notification::insert_notification(
        &mut *tx,
        NewNotification {
            organisation_id: task.organisation_id,
            user_id: assignee,
            kind: "TASK_ASSIGNED",
            title: "Nouvelle tâche",
            message: &task.title,
            link: Some(&link),
            metadata: serde_json::json!({"task_id": task.id, "client_id": task.client_id}),
            source_event_id: None,
        },
    )
    .await?;
    Ok(inserted.into_iter().collect())
}
