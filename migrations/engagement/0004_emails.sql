-- The e-mail outbox: messages written with the change or event that causes them, sent over
-- SMTP by the mailer, retried with backoff; each keeps its status.
create table emails (
    id               uuid primary key,
    organisation_id  uuid not null,
    recipient        text not null,
    subject          text not null,
    body_text        text not null,
    template         text not null,
    status           text not null default 'PENDING' check (status in ('PENDING', 'SENT', 'FAILED')),
    attempts         integer not null default 0,
    last_error       text,
    next_attempt_at  timestamptz not null default now(),
    sent_at          timestamptz,
    -- The event that caused it: one message per (event, template) whatever the redeliveries.
    source_event_id  uuid,
    created_at       timestamptz not null default now()
);
create index emails_due_idx on emails (next_attempt_at, id) where status = 'PENDING';
create index emails_org_idx on emails (organisation_id, created_at desc, id desc);
create unique index emails_source_key on emails (source_event_id, template) where source_event_id is not null;
