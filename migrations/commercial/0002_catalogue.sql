-- The catalogue: product ranges (gammes), products with their lifecycle and promotion, and
-- price grids with a price per product.

create type product_status as enum ('DRAFT', 'TEST', 'ACTIVE', 'FROZEN', 'RETIRED');
create type product_category as enum ('INSURANCE', 'PROVIDENT', 'SAVINGS', 'SERVICE', 'ACCESSORY');
create type product_kind as enum ('INTERNAL', 'PARTNER');

create table product_ranges (
    id               uuid primary key,
    organisation_id  uuid not null,
    name             text not null check (length(name) between 1 and 200),
    code             text,
    description      text,
    position         integer not null default 0,
    active           boolean not null default true,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    constraint product_ranges_name_key unique (organisation_id, name),
    unique (organisation_id, id)
);

create table products (
    id                   uuid primary key,
    organisation_id      uuid not null,
    range_id             uuid,
    sku                  text not null check (length(sku) between 1 and 50),
    name                 text not null check (length(name) between 1 and 200),
    description          text,
    category             product_category not null default 'SERVICE',
    kind                 product_kind not null default 'INTERNAL',
    unit_price           numeric(12, 2) not null check (unit_price >= 0),
    -- The French rates only (CGI art. 278 ff.): 20, 10, 5.5, 2.1 and 0.
    vat_rate             numeric(4, 1) not null check (vat_rate in (20, 10, 5.5, 2.1, 0)),
    currency             char(3) not null default 'EUR',
    status               product_status not null default 'DRAFT',
    promotion_price      numeric(12, 2) check (promotion_price >= 0),
    promotion_starts_at  timestamptz,
    promotion_ends_at    timestamptz,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    constraint products_sku_key unique (organisation_id, sku),
    unique (organisation_id, id),
    foreign key (organisation_id, range_id) references product_ranges (organisation_id, id),
    check (promotion_ends_at is null or promotion_starts_at is null
           or promotion_ends_at > promotion_starts_at)
);
create index products_list_idx on products (organisation_id, name, id);
create index products_range_idx on products (organisation_id, range_id);

create table price_grids (
    id               uuid primary key,
    organisation_id  uuid not null,
    name             text not null check (length(name) between 1 and 200),
    description      text,
    valid_from       date,
    valid_to         date,
    is_default       boolean not null default false,
    active           boolean not null default true,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    constraint price_grids_name_key unique (organisation_id, name),
    unique (organisation_id, id),
    check (valid_to is null or valid_from is null or valid_to >= valid_from)
);
-- At most one default grid per organisation.
create unique index price_grids_default_key on price_grids (organisation_id) where is_default;

create table grid_prices (
    organisation_id   uuid not null,
    grid_id           uuid not null,
    product_id        uuid not null,
    unit_price        numeric(12, 2) not null check (unit_price >= 0),
    discount_percent  numeric(5, 2) not null default 0 check (discount_percent between 0 and 100),
    min_price         numeric(12, 2) check (min_price >= 0),
    max_price         numeric(12, 2) check (max_price >= 0),
    updated_at        timestamptz not null default now(),
    primary key (organisation_id, grid_id, product_id),
    foreign key (organisation_id, grid_id) references price_grids (organisation_id, id) on delete cascade,
    foreign key (organisation_id, product_id) references products (organisation_id, id),
    check (min_price is null or max_price is null or min_price <= max_price)
);
