-- Commission scales (barèmes) in immutable versions, their tiers, and the commissions
-- computed from payments, with their clawbacks.

create extension if not exists btree_gist;

create type commission_calculation as enum ('FIXED', 'PERCENTAGE', 'MIXED');
create type commission_base as enum ('PREMIUM_EXCL_VAT', 'REVENUE_EXCL_VAT', 'FLAT');

create table commission_scales (
    id               uuid primary key,
    organisation_id  uuid not null,
    code             text not null check (length(code) between 1 and 50),
    version          integer not null check (version >= 1),
    name             text not null check (length(name) between 1 and 200),
    description      text,
    calculation      commission_calculation not null,
    base             commission_base not null,
    rate             numeric(5, 2) check (rate between 0 and 100),
    fixed_amount     numeric(10, 2) check (fixed_amount >= 0),
    -- Filters: null means any.
    product_category product_category,
    societe_id       uuid,
    sales_channel    text,
    clawback_months  integer not null default 3 check (clawback_months >= 0),
    clawback_rate    numeric(5, 2) not null default 100 check (clawback_rate between 0 and 100),
    effective_from   date not null,
    effective_to     date,
    active           boolean not null default true,
    created_by       uuid not null,
    created_at       timestamptz not null default now(),
    reason           text,
    constraint commission_scales_version_key unique (organisation_id, code, version),
    unique (organisation_id, id),
    check (effective_to is null or effective_to >= effective_from),
    check (calculation = 'FIXED' or rate is not null),
    check (calculation = 'PERCENTAGE' or fixed_amount is not null),
    -- Versions of one scale never overlap in time.
    constraint commission_scales_no_overlap exclude using gist (
        organisation_id with =, code with =,
        daterange(effective_from, effective_to, '[]') with &&)
);

create table commission_tiers (
    id               uuid primary key,
    organisation_id  uuid not null,
    scale_id         uuid not null,
    position         integer not null,
    threshold_min    numeric(12, 2) not null check (threshold_min >= 0),
    threshold_max    numeric(12, 2),
    bonus            numeric(10, 2) not null check (bonus >= 0),
    foreign key (organisation_id, scale_id) references commission_scales (organisation_id, id),
    check (threshold_max is null or threshold_max >= threshold_min)
);
create index commission_tiers_scale_idx on commission_tiers (organisation_id, scale_id, position);

create type commission_status as enum ('CALCULATED', 'VALIDATED', 'PAID', 'CANCELLED');

create table commissions (
    id               uuid primary key,
    organisation_id  uuid not null,
    reference        text not null,
    sales_rep_id     uuid not null,
    contract_id      uuid not null,
    -- The finance payment it rewards: one commission per payment.
    payment_id       uuid not null,
    source_event_id  uuid not null,
    scale_id         uuid not null,
    scale_version    integer not null,
    base_amount      numeric(12, 2) not null,
    gross_amount     numeric(12, 2) not null,
    bonus_amount     numeric(12, 2) not null,
    net_amount       numeric(12, 2) not null,
    currency         char(3) not null default 'EUR',
    -- YYYY-MM of the payment.
    period           char(7) not null,
    status           commission_status not null default 'CALCULATED',
    details          jsonb not null,
    calculated_at    timestamptz not null default now(),
    status_changed_at timestamptz not null default now(),
    constraint commissions_reference_key unique (organisation_id, reference),
    constraint commissions_payment_key unique (organisation_id, payment_id),
    unique (organisation_id, id),
    foreign key (organisation_id, sales_rep_id) references sales_reps (organisation_id, id),
    foreign key (organisation_id, contract_id) references contracts (organisation_id, id),
    foreign key (organisation_id, scale_id) references commission_scales (organisation_id, id)
);
create index commissions_list_idx on commissions (organisation_id, calculated_at desc, id desc);
create index commissions_contract_idx on commissions (organisation_id, contract_id);

create type clawback_reason as enum ('TERMINATION', 'PAYMENT_REJECTED');

create table commission_clawbacks (
    id               uuid primary key,
    organisation_id  uuid not null,
    commission_id    uuid not null,
    reason           clawback_reason not null,
    rate             numeric(5, 2) not null,
    amount           numeric(12, 2) not null,
    event_date       date not null,
    created_at       timestamptz not null default now(),
    -- A commission is clawed back once.
    constraint commission_clawbacks_commission_key unique (organisation_id, commission_id),
    foreign key (organisation_id, commission_id) references commissions (organisation_id, id)
);
