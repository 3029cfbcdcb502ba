-- Tasks: work items of an organisation, optionally assigned, optionally about a client,
-- contract or invoice (ids of other subgraphs' entities, resolved by the gateway).
create table tasks (
    id               uuid primary key,
    organisation_id  uuid not null,
    title            text not null check (length(title) between 1 and 200),
    description      text,
    kind             text not null default 'OTHER'
                     check (kind in ('CALL', 'EMAIL', 'MEETING', 'FOLLOW_UP', 'DUNNING', 'OTHER')),
    priority         text not null default 'NORMAL' check (priority in ('LOW', 'NORMAL', 'HIGH', 'URGENT')),
    status           text not null default 'TODO' check (status in ('TODO', 'IN_PROGRESS', 'DONE', 'CANCELLED')),
    due_at           timestamptz,
    completed_at     timestamptz,
    assignee_id      uuid,
    created_by       uuid not null,
    client_id        uuid,
    contract_id      uuid,
    invoice_id       uuid,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    check ((status = 'DONE') = (completed_at is not null))
);
create index tasks_org_due_idx on tasks (organisation_id, status, due_at, id);
create index tasks_org_assignee_idx on tasks (organisation_id, assignee_id, status);
create index tasks_org_client_idx on tasks (organisation_id, client_id);
