-- The kit's event tables, which every subgraph's migrations create exactly like this (a test,
-- `every_subgraph_creates_the_kit_tables_identically`, compares them): copy this file into a
-- new subgraph's first migration.

-- The transactional outbox: events written in the same transaction as the change they
-- describe, published to NATS JetStream by the relay (subgraph_kit::events).
create table outbox (
    id               uuid primary key,
    organisation_id  uuid not null,
    event_type       text not null,
    envelope         jsonb not null,
    created_at       timestamptz not null,
    published_at     timestamptz,
    -- Times the bus refused this row (not counting outages), and why last.
    attempts         integer not null default 0,
    last_error       text,
    -- Set when the relay gave up on the row (refused as too large, or too often): it is
    -- passed over, so one bad row never holds back the others; an operator retries it.
    parked_at        timestamptz
);
-- The relay's queue: unpublished rows in order.
create index outbox_pending_idx on outbox (created_at, id) where published_at is null and parked_at is null;

-- Bookkeeping of durable event consumers (subgraph_kit::consumer): which events each consumer
-- has processed (written in the handler's transaction: the idempotency guard), and the ones
-- it gave up on, kept to be listed and replayed.
create table processed_events (
    consumer      text not null,
    event_id      uuid not null,
    event_type    text not null,
    processed_at  timestamptz not null default now(),
    primary key (consumer, event_id)
);
-- Purged once older than the stream keeps events (nothing can be redelivered then).
create index processed_events_age_idx on processed_events (processed_at);

create table dead_letters (
    consumer     text not null,
    event_id     uuid not null,
    event_type   text not null,
    envelope     jsonb not null,
    error        text not null,
    attempts     integer not null,
    failed_at    timestamptz not null default now(),
    replayed_at  timestamptz,
    -- An operator asked for a replay (`events dead-letters replay`): the consumer's own
    -- process runs its handler again and clears this.
    replay_requested_at  timestamptz,
    -- An operator decided the event is not to be applied: kept, never replayed.
    discarded_at  timestamptz,
    primary key (consumer, event_id)
);

-- The kit's directory projection (subgraph_kit::directory): what a subgraph knows of core's
-- clients, sociétés and members, fed by core's events and read through to core on a miss.
-- A subgraph that projects the directory creates these tables (it may add columns, as
-- finance does for a client's identity and billing address). Nothing is ever deleted: a
-- deleted client, société or removed member stays as a `deleted` row (a tombstone), so that
-- a read-through answer that raced the deletion's event cannot bring it back. `event_at` is
-- when core recorded the event that wrote the row (null: a read-through answer): an older
-- event arriving late (a redelivery, a replay) never overwrites a newer one.

create table clients (
    organisation_id  uuid not null,
    id               uuid not null,
    -- "First Last" for a person, the name for a company.
    name             text not null,
    deleted          boolean not null default false,
    updated_at       timestamptz not null default now(),
    event_at         timestamptz,
    primary key (organisation_id, id)
);

create table societes (
    organisation_id  uuid not null,
    id               uuid not null,
    name             text not null,
    deleted          boolean not null default false,
    updated_at       timestamptz not null default now(),
    event_at         timestamptz,
    primary key (organisation_id, id)
);

create table members (
    organisation_id  uuid not null,
    user_id          uuid not null,
    role             text not null check (role in ('VIEWER', 'MEMBER', 'ADMIN', 'OWNER')),
    deleted          boolean not null default false,
    updated_at       timestamptz not null default now(),
    event_at         timestamptz,
    primary key (organisation_id, user_id)
);

-- ---------------------------------------------------------------------------------------------
-- Logistics: postal mail through Maileva.

-- Statuses and kinds are enums, as in every subgraph.
create type shipment_kind as enum ('SIMPLE_LETTER', 'REGISTERED_LETTER');
create type shipment_reason as enum ('MANUAL', 'INVOICE', 'WELCOME_LETTER');
create type shipment_status as enum ('QUEUED', 'SUBMITTED', 'ACCEPTED', 'PROCESSED', 'DELIVERED',
    'RETURNED', 'REJECTED', 'FAILED', 'CANCELLED');
create type tracking_status as enum ('PENDING', 'INFO_RECEIVED', 'IN_TRANSIT', 'OUT_FOR_DELIVERY',
    'FAILED_ATTEMPT', 'DELIVERED', 'AVAILABLE_FOR_PICKUP', 'RETURNED', 'EXCEPTION');
create type tracking_source as enum ('WEBHOOK', 'POLL');
create type document_kind as enum ('UPLOAD', 'INVOICE', 'DEPOSIT_PROOF', 'ACKNOWLEDGEMENT_OF_RECEIPT');

-- What logistics keeps of a client beyond the kit's row: whether it is a person or a company
-- and its postal address (core's default billing address), which a shipment's recipient
-- address is frozen from.
alter table clients
    add column kind text check (kind in ('PERSON', 'COMPANY')),
    add column address_line1 text,
    add column address_line2 text,
    add column postal_code text,
    add column city text,
    add column country text;

-- Issued invoices (from finance's `invoice.issued`): what a shipment may carry. The PDF itself
-- is fetched from finance when the letter is prepared, and checked against this hash.
create table invoices (
    organisation_id  uuid not null,
    id               uuid not null,
    societe_id       uuid not null,
    client_id        uuid not null,
    contract_id      uuid,
    number           text not null,
    document_sha256  text not null,
    issued_on        date,
    primary key (organisation_id, id)
);

-- A société's account with a postal carrier (Maileva). The credentials are encrypted at rest
-- (subgraph_kit::vault, bound to the account's id) and never returned by the API. Maileva's
-- notifications authenticate with the account's webhook password, of which only a SHA-256 is
-- kept. The sender address is printed on every letter of the société.
create table carrier_accounts (
    organisation_id       uuid not null,
    id                    uuid not null,
    societe_id            uuid not null,
    label                 text not null,
    sandbox               boolean not null,
    credentials           text not null,
    -- The client id of the OAuth2 client (not a secret: shown to admins).
    client_id             text not null,
    username              text not null,
    notification_email    text not null,
    sender_line1          text not null,
    sender_line2          text,
    sender_line3          text,
    sender_line4          text,
    sender_line5          text,
    sender_line6          text not null,
    sender_country        text not null,
    -- The société's default: its invoices go by post (a client's own setting wins).
    invoices_by_post      boolean not null default false,
    -- How invoices are posted: a simple letter, or registered with acknowledgement of receipt.
    invoice_letter_kind   shipment_kind not null default 'SIMPLE_LETTER',
    webhook_password_sha256 text not null,
    -- When set, each contract the société signs gets this letter (an uploaded document).
    welcome_letter_document_id uuid,
    -- Whether Maileva accepted our notification subscriptions, and why not.
    webhooks_registered_at timestamptz,
    webhooks_error        text,
    active                boolean not null default true,
    created_at            timestamptz not null default now(),
    updated_at            timestamptz not null default now(),
    primary key (organisation_id, id),
    -- Webhooks name the account alone.
    constraint carrier_accounts_id_key unique (id)
);
-- One active account per société.
create unique index carrier_accounts_one_active_per_societe
    on carrier_accounts (organisation_id, societe_id) where active;

-- A client's own setting: its invoices go by post, or not (unset: the société's default).
create table postal_preferences (
    organisation_id   uuid not null,
    client_id         uuid not null,
    invoices_by_post  boolean not null,
    updated_by        uuid,
    updated_at        timestamptz not null default now(),
    primary key (organisation_id, client_id)
);

-- The documents logistics keeps: what a letter carries (an invoice's PDF, an uploaded one),
-- and the carrier's proofs (deposit proof, acknowledgement of receipt).
create table documents (
    organisation_id  uuid not null,
    id               uuid not null,
    kind             document_kind not null,
    file_name        text not null,
    content_type     text not null,
    size_bytes       integer not null,
    pages            integer,
    sha256           text not null,
    storage_key      text not null,
    uploaded_by      uuid,
    created_at       timestamptz not null default now(),
    primary key (organisation_id, id)
);
alter table carrier_accounts add constraint carrier_accounts_welcome_document_fkey
    foreign key (organisation_id, welcome_letter_document_id) references documents (organisation_id, id);

create table shipments (
    organisation_id     uuid not null,
    id                  uuid not null,
    client_id           uuid not null,
    societe_id          uuid not null,
    carrier_account_id  uuid not null,
    contract_id         uuid,
    invoice_id          uuid,
    kind                shipment_kind not null,
    reason              shipment_reason not null,
    status              shipment_status not null,
    tracking_status     tracking_status,
    colour              boolean not null,
    duplex              boolean not null,
    acknowledgement_of_receipt boolean not null,
    -- The recipient's address as it was checked and will be printed (frozen at creation).
    recipient_lines     text[] not null,
    recipient_country   text not null,
    sender_lines        text[] not null,
    sender_country      text not null,
    document_id         uuid,
    -- An invoice's PDF is fetched when the letter is prepared: its id and hash until then.
    pages               integer,
    price_estimate      numeric(10, 2),
    postage_price       numeric(10, 2),
    tracking_number     text,
    -- The carrier's ids, each stored as soon as the carrier answered (a retry resumes there).
    carrier_sending_id  text,
    carrier_document_id text,
    carrier_recipient_id text,
    -- When a create was sent whose answer may have been lost: a retry looks for the sending
    -- by its custom id (our shipment id) before creating another.
    create_sent_at      timestamptz,
    submitted_at        timestamptz,
    delivered_at        timestamptz,
    -- A registered letter's proofs, kept once the carrier has them (checked at most so often).
    deposit_proof_id    uuid,
    acknowledgement_id  uuid,
    proofs_checked_at   timestamptz,
    attempts            integer not null default 0,
    next_attempt_at     timestamptz,
    leased_until        timestamptz,
    last_error          text,
    last_polled_at      timestamptz,
    created_by          uuid,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    primary key (organisation_id, id),
    constraint shipments_id_key unique (id),
    constraint shipments_document_fkey foreign key (organisation_id, document_id)
        references documents (organisation_id, id),
    constraint shipments_carrier_account_fkey foreign key (organisation_id, carrier_account_id)
        references carrier_accounts (organisation_id, id)
);
-- An issued invoice is posted by its setting once.
create unique index shipments_one_per_posted_invoice
    on shipments (organisation_id, invoice_id) where reason = 'INVOICE';
-- A signed contract gets its welcome letter once.
create unique index shipments_one_welcome_per_contract
    on shipments (organisation_id, contract_id) where reason = 'WELCOME_LETTER';
create index shipments_list_idx on shipments (organisation_id, created_at desc, id desc);
create index shipments_client_idx on shipments (organisation_id, client_id, created_at desc);
create index shipments_contract_idx on shipments (organisation_id, contract_id, created_at desc) where contract_id is not null;
create index shipments_invoice_idx on shipments (organisation_id, invoice_id, created_at desc) where invoice_id is not null;
-- The submission queue.
create index shipments_queue_idx on shipments (next_attempt_at) where status = 'QUEUED';
create index shipments_sending_idx on shipments (carrier_sending_id) where carrier_sending_id is not null;

-- Every status a shipment went through.
create table shipment_status_changes (
    organisation_id  uuid not null,
    id               uuid not null,
    shipment_id      uuid not null,
    from_status      shipment_status,
    to_status        shipment_status not null,
    reason           text,
    changed_at       timestamptz not null default now(),
    primary key (organisation_id, id),
    foreign key (organisation_id, shipment_id) references shipments (organisation_id, id)
);
create index shipment_status_changes_idx on shipment_status_changes (organisation_id, shipment_id, changed_at);

-- What the carrier said about a shipment, each with its raw code and the normalised status.
-- A notification or a poll seen twice records nothing new (unique per code and instant).
create table tracking_events (
    organisation_id  uuid not null,
    id               uuid not null,
    shipment_id      uuid not null,
    source           tracking_source not null,
    code             text not null,
    label            text not null,
    status           tracking_status not null,
    occurred_at      timestamptz not null,
    location         text,
    raw              jsonb not null,
    recorded_at      timestamptz not null default now(),
    primary key (organisation_id, id),
    constraint tracking_events_once unique (shipment_id, code, occurred_at),
    foreign key (organisation_id, shipment_id) references shipments (organisation_id, id)
);
create index tracking_events_shipment_idx on tracking_events (organisation_id, shipment_id, occurred_at);

-- Maileva's notifications received: one effect per resource, event type and date, however
-- often Maileva delivers it (it retries until we answer 201).
create table webhook_receipts (
    carrier_account_id  uuid not null,
    resource_id         text not null,
    event_type          text not null,
    event_date          timestamptz not null,
    organisation_id     uuid not null,
    shipment_id         uuid,
    body                jsonb not null,
    received_at         timestamptz not null default now(),
    primary key (carrier_account_id, resource_id, event_type, event_date)
);
