-- Failed logins per e-mail (whether or not an account has it: answers never tell), for the
-- back-off of core's `login` (db::login_failures). A success deletes the row; a purge job
-- deletes rows idle for a day.
create table login_failures (
    email         text primary key,
    -- Failures since `window_start`, within the current minute-long window.
    failures      integer not null,
    window_start  timestamptz not null,
    -- Refused until then, even with the right password.
    locked_until  timestamptz,
    -- Locks so far: each one lasts twice as long as the previous (capped).
    lockouts      integer not null default 0,
    updated_at    timestamptz not null default now()
);

create index login_failures_updated_idx on login_failures (updated_at);
