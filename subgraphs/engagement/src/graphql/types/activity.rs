//! Activities (a client's timeline) and the organisation's activity types.

use async_graphql::{Context, InputObject, Object, ID};
use chrono::{DateTime, Utc};
use subgraph_kit::{
    error::{is_constraint_violation, Invalid},
    pagination::{build_page, Keyset, Page, PageRequest},
    Role,
};

use super::entities::{Client, User};
use crate::graphql::{load_one, loaders::ActivityTypeLoader, parse_id, parts};
use crate::{
    db::{
        self,
        activity::{ActivityRow, ActivityTypeRow, NewActivity},
    },
    error::{Error, Result},
};

/// A kind of activity the organisation records (calls, meetings…).
pub struct ActivityType(pub ActivityTypeRow);

#[Object]
impl ActivityType {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// UPPER_SNAKE, unique in the organisation.
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn label(&self) -> &str {
        &self.0.label
    }
}

/// Something that happened with a client.
pub struct Activity(pub ActivityRow);

#[Object]
impl Activity {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    #[graphql(name = "type")]
    async fn activity_type(&self, ctx: &Context<'_>) -> Result<Option<ActivityType>> {
        let row = load_one::<ActivityTypeLoader>(ctx, self.0.type_id).await?;
        Ok(row.map(ActivityType))
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
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
    /// Who recorded it; null when the system did (a letter's tracking…).
    async fn created_by(&self) -> Option<User> {
        self.0.created_by.map(|id| User {
            id: ID(id.to_string()),
        })
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(InputObject)]
pub struct CreateActivityInput {
    pub type_id: ID,
    pub occurred_at: DateTime<Utc>,
    pub subject: String,
    pub comment: Option<String>,
    pub client_id: Option<ID>,
    pub contract_id: Option<ID>,
}

fn keyset(row: &ActivityRow) -> Keyset {
    Keyset::instant(row.occurred_at, row.id)
}

#[derive(Default)]
pub struct ActivityQuery;

#[Object]
impl ActivityQuery {
    /// The organisation's activity types, by code.
    async fn activity_types(&self, ctx: &Context<'_>) -> Result<Vec<ActivityType>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let rows = db::activity::list_types(&state.pool, tenant.organisation_id).await?;
        Ok(rows.into_iter().map(ActivityType).collect())
    }

    /// The organisation's activities, newest first, optionally of one client.
    #[graphql(
        complexity = "subgraph_kit::pagination::cost(first, child_complexity)",
        directive = subgraph_kit::cost::paged::apply()
    )]
    async fn activities(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        client_id: Option<ID>,
    ) -> Result<Page<Activity>> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let page = PageRequest::parse(first, after)?;
        let client_id = client_id.map(|id| parse_id("clientId", &id)).transpose()?;
        let (rows, total) = db::activity::list_activities_page(
            &state.pool,
            tenant.organisation_id,
            client_id,
            &page,
        )
        .await?;
        Ok(build_page(&page, rows, total, keyset, Activity))
    }

    async fn activity(&self, ctx: &Context<'_>, id: ID) -> Result<Activity> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant()?;
        let id = parse_id("id", &id)?;
        db::activity::find_activity(&state.pool, tenant.organisation_id, id)
            .await?
            .map(Activity)
            .ok_or(Error::not_found("activity"))
    }
}

#[derive(Default)]
pub struct ActivityMutation;

#[Object]
impl ActivityMutation {
    /// Adds an activity type (admins).
    async fn create_activity_type(
        &self,
        ctx: &Context<'_>,
        code: String,
        label: String,
    ) -> Result<ActivityType> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let code = code.trim().to_uppercase();
        let valid_code = !code.is_empty()
            && code.len() <= 40
            && code.starts_with(|c: char| c.is_ascii_uppercase())
            && code
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !valid_code {
            return Err(Invalid::new(
                "code",
                "letters, digits and _, starting with a letter (40 at most)",
            )
            .into());
        }
        let label = label.split_whitespace().collect::<Vec<_>>().join(" ");
        if label.is_empty() || label.chars().count() > 100 {
            return Err(Invalid::new("label", "a label has 1 to 100 characters").into());
        }
        match db::activity::insert_type(&state.pool, tenant.organisation_id, &code, &label).await {
            Ok(row) => Ok(ActivityType(row)),
            Err(err) if is_constraint_violation(&err, db::activity::CODE_CONSTRAINT) => {
                Err(Error::conflict("an activity type with this code exists"))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Deletes an activity type no activity uses (admins).
    async fn delete_activity_type(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Admin)?;
        let uuid = parse_id("id", &id)?;
        match db::activity::delete_type(&state.pool, tenant.organisation_id, uuid).await {
            Ok(true) => Ok(id),
            Ok(false) => Err(Error::not_found("activity type")),
            Err(err) if is_constraint_violation(&err, db::activity::TYPE_CONSTRAINT) => {
                Err(Error::conflict("activities use this type"))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Records an activity (members).
    async fn create_activity(
        &self,
        ctx: &Context<'_>,
        input: CreateActivityInput,
    ) -> Result<Activity> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let type_id = parse_id("typeId", &input.type_id)?;
        let subject = input
            .subject
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if subject.is_empty() || subject.chars().count() > 200 {
            return Err(Invalid::new("subject", "a subject has 1 to 200 characters").into());
        }
        let comment = input
            .comment
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        if comment.as_ref().is_some_and(|c| c.chars().count() > 10_000) {
            return Err(Invalid::new("comment", "at most 10000 characters").into());
        }
        if db::activity::find_type(&state.pool, tenant.organisation_id, type_id)
            .await?
            .is_none()
        {
            return Err(Error::not_found("activity type"));
        }
        let row = db::activity::insert_activity(
            &state.pool,
            tenant.organisation_id,
            Some(tenant.user_id),
            NewActivity {
                type_id,
                occurred_at: input.occurred_at,
                subject: &subject,
                comment: comment.as_deref(),
                client_id: input
                    .client_id
                    .map(|id| parse_id("clientId", &id))
                    .transpose()?,
                contract_id: input
                    .contract_id
                    .map(|id| parse_id("contractId", &id))
                    .transpose()?,
            },
        )
        .await?;
        Ok(Activity(row))
    }

    /// Deletes an activity (members).
    async fn delete_activity(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        let (state, request) = parts(ctx);
        let tenant = request.tenant_with_role(Role::Member)?;
        let uuid = parse_id("id", &id)?;
        if db::activity::delete_activity(&state.pool, tenant.organisation_id, uuid).await? {
            Ok(id)
        } else {
            Err(Error::not_found("activity"))
        }
    }
}
