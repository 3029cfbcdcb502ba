//! The directory projection: what a subgraph knows of core's clients, sociétés and members,
//! so that an input naming one is checked in the subgraph's own database.
//!
//! It is fed by core's events (the consumer `<subgraph>-directory`) and **reads through to
//! core on a miss**: a client created in core and named in the very next request to another
//! subgraph is not there yet (its event is on its way), so the subgraph asks core — with the
//! caller's own token, so core answers only within the caller's organisation — and records
//! what it learns. Read-your-writes holds across subgraphs, and a frontend can chain requests.
//!
//! The tables are the same in every subgraph that has them (`clients`, `societes`, `members`,
//! created by its migrations as `sql/directory.sql` shows); a subgraph that keeps more of a
//! client (finance: its identity and billing address) adds columns and a [`DirectoryHook`].

use std::{future::Future, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};

use crm_events::{
    directory::{
        ClientCreated, ClientSnapshot, ClientUpdated, MemberJoined, MemberRemoved, MemberRole,
        MemberRoleChanged, MemberSnapshot, OrganisationCreated, SocieteCreated, SocieteDeleted,
        SocieteSnapshot, SocieteUpdated,
    },
    event_set, Envelope,
};
use secrecy::ExposeSecret;
use serde::{de::DeserializeOwned, Deserialize};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::{
    consumer::{Handler, HandlerError},
    error::{Error, Result},
    server::RequestContext,
};

/// Where core answers the directory's questions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectorySettings {
    /// Core's base URL (`http://core:4001`): the directory reads `/directory/…` there.
    pub core_url: String,
}

impl Default for DirectorySettings {
    fn default() -> Self {
        Self {
            core_url: crate::settings::DEFAULT_CORE_URL.to_owned(),
        }
    }
}

/// What a subgraph adds to the kit's client row, in the same transaction, whether the client
/// came from an event or from core on a miss.
pub trait DirectoryHook: Send + Sync + 'static {
    fn client_changed<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        organisation_id: Uuid,
        client: &'a ClientSnapshot,
    ) -> impl Future<Output = sqlx::Result<()>> + Send + 'a;
}

/// No extra columns.
impl DirectoryHook for () {
    async fn client_changed(
        &self,
        _tx: &mut PgConnection,
        _organisation_id: Uuid,
        _client: &ClientSnapshot,
    ) -> sqlx::Result<()> {
        Ok(())
    }
}

event_set! {
    /// Core's events the directory hears.
    pub enum DirectoryEvent {
        OrganisationCreated(OrganisationCreated),
        MemberJoined(MemberJoined),
        MemberRoleChanged(MemberRoleChanged),
        MemberRemoved(MemberRemoved),
        ClientCreated(ClientCreated),
        ClientUpdated(ClientUpdated),
        SocieteCreated(SocieteCreated),
        SocieteUpdated(SocieteUpdated),
        SocieteDeleted(SocieteDeleted),
    }
}

/// A subgraph's directory: the projection, its consumer and the read-through to core.
pub struct Directory<H = ()> {
    core_url: String,
    http: reqwest::Client,
    hook: Arc<H>,
}

impl<H> Clone for Directory<H> {
    fn clone(&self) -> Self {
        Self {
            core_url: self.core_url.clone(),
            http: self.http.clone(),
            hook: self.hook.clone(),
        }
    }
}

impl<H> std::fmt::Debug for Directory<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("core_url", &self.core_url)
            .finish_non_exhaustive()
    }
}

impl<H: DirectoryHook> Directory<H> {
    /// # Errors
    /// When no HTTP client can be built (no TLS backend).
    pub fn new(settings: &DirectorySettings, hook: H) -> anyhow::Result<Self> {
        // A read-through runs inside the caller's transaction: core must answer quickly.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the directory's HTTP client: {e}"))?;
        Ok(Self {
            core_url: settings.core_url.trim_end_matches('/').to_owned(),
            http,
            hook: Arc::new(hook),
        })
    }

    /// The consumer keeping the projection up to date from core's events.
    pub fn handler(&self) -> DirectoryHandler<H> {
        DirectoryHandler {
            hook: self.hook.clone(),
        }
    }

    /// Whether the caller's organisation has this client, not deleted.
    pub async fn has_client(
        &self,
        conn: &mut PgConnection,
        request: &RequestContext,
        organisation_id: Uuid,
        id: Uuid,
    ) -> Result<bool> {
        if client_exists(&mut *conn, organisation_id, id).await? {
            return Ok(true);
        }
        let Some(client) = self
            .ask_core::<ClientSnapshot>(request, &format!("clients/{id}"))
            .await?
        else {
            return Ok(false);
        };
        learn_client(conn, &*self.hook, organisation_id, &client).await?;
        Ok(client.deleted_at.is_none())
    }

    /// Whether the caller's organisation has this société.
    pub async fn has_societe(
        &self,
        conn: &mut PgConnection,
        request: &RequestContext,
        organisation_id: Uuid,
        id: Uuid,
    ) -> Result<bool> {
        if societe_exists(&mut *conn, organisation_id, id).await? {
            return Ok(true);
        }
        let Some(societe) = self
            .ask_core::<SocieteSnapshot>(request, &format!("societes/{id}"))
            .await?
        else {
            return Ok(false);
        };
        write_societe(
            &mut *conn,
            organisation_id,
            &societe,
            false,
            Source::ReadThrough,
        )
        .await?;
        Ok(true)
    }

    /// Whether `user_id` is a member of the caller's organisation.
    pub async fn has_member(
        &self,
        conn: &mut PgConnection,
        request: &RequestContext,
        organisation_id: Uuid,
        user_id: Uuid,
    ) -> Result<bool> {
        if is_member(&mut *conn, organisation_id, user_id).await? {
            return Ok(true);
        }
        let Some(member) = self
            .ask_core::<MemberSnapshot>(request, &format!("members/{user_id}"))
            .await?
        else {
            return Ok(false);
        };
        write_member(
            &mut *conn,
            organisation_id,
            member.user_id,
            Some(member.role),
            Source::ReadThrough,
        )
        .await?;
        Ok(true)
    }

    /// `GET <core>/directory/<path>` with the caller's token: `None` when core does not know
    /// it in the caller's organisation.
    async fn ask_core<T: DeserializeOwned>(
        &self,
        request: &RequestContext,
        path: &str,
    ) -> Result<Option<T>> {
        let Some(token) = &request.token else {
            return Ok(None);
        };
        let url = format!("{}/directory/{path}", self.core_url);
        let response = self
            .http
            .get(&url)
            .bearer_auth(token.expose_secret())
            .header(crate::server::REQUEST_ID_HEADER, &request.request_id)
            .send()
            .await
            .map_err(|e| Error::internal(format!("cannot ask core ({url}): {e}")))?;
        match response.status() {
            reqwest::StatusCode::NOT_FOUND => Ok(None),
            status if status.is_success() => {
                response.json().await.map(Some).map_err(|e| {
                    Error::internal(format!("core's answer at {url} is unreadable: {e}"))
                })
            }
            status => Err(Error::internal(format!("core answered {status} at {url}"))),
        }
    }
}

/// Keeps the projection from core's events.
pub struct DirectoryHandler<H> {
    hook: Arc<H>,
}

impl<H: DirectoryHook> Handler for DirectoryHandler<H> {
    type Events = DirectoryEvent;
    type Output = ();

    async fn handle(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope,
        event: DirectoryEvent,
    ) -> Result<(), HandlerError> {
        Ok(self.apply(tx, envelope, event).await?)
    }
}

impl<H: DirectoryHook> DirectoryHandler<H> {
    /// Applies one directory event to the projection, in the caller's transaction: for a
    /// consumer that must see the directory change before its own effect of the same event
    /// (engagement notifies the members it projects).
    pub async fn apply(
        &self,
        tx: &mut PgConnection,
        envelope: &Envelope,
        event: DirectoryEvent,
    ) -> sqlx::Result<()> {
        let org = envelope.organisation_id;
        let at = Source::Event(envelope.occurred_at);
        match event {
            DirectoryEvent::OrganisationCreated(e) => {
                write_member(&mut *tx, org, e.owner_id, Some(MemberRole::Owner), at).await?;
            }
            DirectoryEvent::MemberJoined(MemberJoined { user_id, role, .. })
            | DirectoryEvent::MemberRoleChanged(MemberRoleChanged { user_id, role, .. }) => {
                write_member(&mut *tx, org, user_id, Some(role), at).await?;
            }
            DirectoryEvent::MemberRemoved(e) => {
                write_member(&mut *tx, org, e.user_id, None, at).await?;
            }
            DirectoryEvent::ClientCreated(ClientCreated { client, .. })
            | DirectoryEvent::ClientUpdated(ClientUpdated { client, .. }) => {
                apply_client(tx, &*self.hook, org, &client, envelope.occurred_at).await?;
            }
            DirectoryEvent::SocieteCreated(SocieteCreated { societe, .. })
            | DirectoryEvent::SocieteUpdated(SocieteUpdated { societe, .. }) => {
                write_societe(&mut *tx, org, &societe, false, at).await?;
            }
            DirectoryEvent::SocieteDeleted(SocieteDeleted { societe, .. }) => {
                write_societe(&mut *tx, org, &societe, true, at).await?;
            }
        }
        Ok(())
    }
}

/// Where a projected fact comes from. Events are applied in the order core recorded them,
/// whatever order they arrive in (a redelivery, a replay): a row written by an event at
/// `occurred_at` is overwritten only by an event at least as recent. A read-through answer
/// of core's fills a gap and never overwrites what an event wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Core's event, recorded at this instant.
    Event(DateTime<Utc>),
    /// Core's answer to a read-through.
    ReadThrough,
}

impl Source {
    fn event_at(self) -> Option<DateTime<Utc>> {
        match self {
            Source::Event(at) => Some(at),
            Source::ReadThrough => None,
        }
    }
}

async fn apply_client<H: DirectoryHook>(
    tx: &mut PgConnection,
    hook: &H,
    organisation_id: Uuid,
    client: &ClientSnapshot,
    occurred_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    if upsert_client(&mut *tx, organisation_id, client, occurred_at).await? {
        hook.client_changed(tx, organisation_id, client).await?;
    }
    Ok(())
}

/// Records what core answered, unless an event already wrote the client (events are ordered
/// and win: a read-through answer may be older than the last event applied).
async fn learn_client<H: DirectoryHook>(
    tx: &mut PgConnection,
    hook: &H,
    organisation_id: Uuid,
    client: &ClientSnapshot,
) -> sqlx::Result<()> {
    let inserted = sqlx::query!(
        "insert into clients (organisation_id, id, name, deleted) values ($1, $2, $3, $4)
         on conflict (organisation_id, id) do nothing",
        organisation_id,
        client.client_id,
        client.display_name(),
        client.deleted_at.is_some(),
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        hook.client_changed(tx, organisation_id, client).await?;
    }
    Ok(())
}

/// Records the client as core's event at `occurred_at` describes it, unless an event at
/// least as recent already did; returns whether it was written.
#[tracing::instrument(level = "debug", skip_all, fields(client = %client.client_id))]
pub async fn upsert_client(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    client: &ClientSnapshot,
    occurred_at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let written = sqlx::query!(
        "insert into clients (organisation_id, id, name, deleted, event_at) values ($1, $2, $3, $4, $5)
         on conflict (organisation_id, id)
         do update set name = excluded.name, deleted = excluded.deleted, event_at = excluded.event_at,
                       updated_at = now()
         where clients.event_at is null or clients.event_at <= excluded.event_at",
        organisation_id,
        client.client_id,
        client.display_name(),
        client.deleted_at.is_some(),
        occurred_at,
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(written == 1)
}

/// Records a société, live (`deleted` false) or as the tombstone of a deleted one, as
/// `source` says (see [`Source`]: never over a more recent event's row).
#[tracing::instrument(level = "debug", skip_all, fields(societe = %societe.societe_id))]
pub async fn write_societe(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    societe: &SocieteSnapshot,
    deleted: bool,
    source: Source,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into societes (organisation_id, id, name, deleted, event_at) values ($1, $2, $3, $4, $5)
         on conflict (organisation_id, id) do update
         set name = excluded.name, deleted = excluded.deleted, event_at = excluded.event_at,
             updated_at = now()
         where excluded.event_at is not null
           and (societes.event_at is null or societes.event_at <= excluded.event_at)",
        organisation_id,
        societe.societe_id,
        societe.name,
        deleted,
        source.event_at(),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records a member with `role`, or the tombstone of a removed one (`role` `None`: the last
/// role known stays, `VIEWER` for a member never seen), as `source` says (see [`Source`]: a
/// `member.role_changed` redelivered after the `member.removed` that followed it leaves the
/// member removed).
#[tracing::instrument(level = "debug", skip(db))]
pub async fn write_member(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_id: Uuid,
    role: Option<MemberRole>,
    source: Source,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into members (organisation_id, user_id, role, deleted, event_at)
         values ($1, $2, coalesce($3, 'VIEWER'), $3 is null, $4)
         on conflict (organisation_id, user_id) do update
         set role = coalesce($3, members.role), deleted = $3 is null, event_at = excluded.event_at,
             updated_at = now()
         where excluded.event_at is not null
           and (members.event_at is null or members.event_at <= excluded.event_at)",
        organisation_id,
        user_id,
        role.map(MemberRole::as_str),
        source.event_at(),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Whether the projection has this client, not deleted (no read-through: see
/// [`Directory::has_client`]).
#[tracing::instrument(skip(db))]
pub async fn client_exists(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from clients where organisation_id = $1 and id = $2 and not deleted) as "exists!""#,
        organisation_id,
        id,
    )
    .fetch_one(db)
    .await
}

#[tracing::instrument(skip(db))]
pub async fn societe_exists(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from societes where organisation_id = $1 and id = $2 and not deleted) as "exists!""#,
        organisation_id,
        id,
    )
    .fetch_one(db)
    .await
}

#[tracing::instrument(skip(db))]
pub async fn is_member(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from members where organisation_id = $1 and user_id = $2 and not deleted) as "exists!""#,
        organisation_id,
        user_id,
    )
    .fetch_one(db)
    .await
}

/// Members of the organisation whose role is one of `roles`.
#[tracing::instrument(skip(db))]
pub async fn members_with_roles(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    roles: &[MemberRole],
) -> sqlx::Result<Vec<Uuid>> {
    let roles: Vec<String> = roles.iter().map(|r| r.as_str().to_owned()).collect();
    sqlx::query_scalar!(
        "select user_id from members where organisation_id = $1 and role = any($2) and not deleted
         order by user_id",
        organisation_id,
        &roles[..],
    )
    .fetch_all(db)
    .await
}
