-- One-thing bundles and cases (一件事 + 办件): versioned bundle definitions, applications (drafts
-- included), cases with their hash-chained event logs, daily case-number counters, supervision
-- orders, the outbox, idempotency keys, job leases and department webhooks.
-- Dates are civil dates as 'YYYY-MM-DD' text; timestamps are microseconds since the Unix epoch
-- (UTC); documents are JSON text. The other backend's migration of the same name keeps the same
-- shape.

-- Bundles (一件事), versioned like service items: `document` is the JSON of
-- onetrip_domain::bundle::Bundle as published in that version.
CREATE TABLE bundles (
    code            TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    category        TEXT NOT NULL,
    lead_department TEXT NOT NULL,
    division_code   TEXT NOT NULL,
    status          TEXT NOT NULL,
    current_version BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE bundle_versions (
    code         TEXT NOT NULL REFERENCES bundles (code),
    version      BIGINT NOT NULL,
    document     TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    PRIMARY KEY (code, version)
);

-- Applications (申请): one per submission of an item or a bundle; drafts are applications in
-- state 'draft' owned by the account that saves them (resumable on any device).
-- `subject_id` is the applicant's resident ID or credit code (personal data).
CREATE TABLE applications (
    id             TEXT PRIMARY KEY,
    account_id     TEXT,
    subject_kind   TEXT NOT NULL,
    subject_id     TEXT NOT NULL,
    subject_name   TEXT NOT NULL,
    bundle_code    TEXT,
    bundle_version BIGINT,
    item_code      TEXT,
    division_code  TEXT NOT NULL,
    channel        TEXT NOT NULL,
    state          TEXT NOT NULL,
    document       TEXT NOT NULL,
    intake_by      TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    submitted_at   BIGINT
);
CREATE INDEX applications_account ON applications (account_id, updated_at);
CREATE INDEX applications_subject ON applications (subject_id, updated_at);

-- Cases (办件). `status` is the JSON of the folded onetrip_domain::case::CaseStatus after the
-- last event; `due_on` is the date the queue sorts by (the deadline once the clock runs, the
-- submission date before intake), recomputed when a calendar year is imported; `handling_days`
-- are the working days from acceptance to conclusion, pauses excluded.
CREATE TABLE cases (
    number          TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES applications (id),
    member          TEXT NOT NULL,
    item_code       TEXT NOT NULL,
    item_version    BIGINT NOT NULL,
    situation       TEXT NOT NULL,
    department_code TEXT NOT NULL,
    division_code   TEXT NOT NULL,
    state           TEXT NOT NULL,
    closed          BIGINT NOT NULL,
    due_on          TEXT NOT NULL,
    warning         TEXT NOT NULL,
    status          TEXT NOT NULL,
    event_count     BIGINT NOT NULL,
    last_hash       TEXT NOT NULL,
    concluded_on    TEXT,
    on_time         BIGINT,
    handling_days   BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX cases_application ON cases (application_id);
CREATE INDEX cases_queue ON cases (department_code, due_on, number) WHERE closed = 0;
CREATE INDEX cases_open_division ON cases (division_code, warning) WHERE closed = 0;
CREATE INDEX cases_concluded ON cases (department_code, concluded_on);

-- The append-only event log of each case. `hash` = SM3(previous hash || canonical JSON of the
-- event record); the first event's previous hash is 64 zeros.
CREATE TABLE case_events (
    case_number TEXT NOT NULL REFERENCES cases (number),
    seq         BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    event       TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    PRIMARY KEY (case_number, seq)
);

-- Next case-number sequence per (county division, day).
CREATE TABLE case_counters (
    division TEXT NOT NULL,
    day      TEXT NOT NULL,
    next     BIGINT NOT NULL,
    PRIMARY KEY (division, day)
);

-- Supervision orders (督办). `answer` is NULL until the department answers.
CREATE TABLE supervision_orders (
    id              TEXT PRIMARY KEY,
    case_number     TEXT NOT NULL REFERENCES cases (number),
    department_code TEXT NOT NULL,
    division_code   TEXT NOT NULL,
    issued_by       TEXT NOT NULL,
    reason          TEXT NOT NULL,
    respond_by      TEXT NOT NULL,
    issued_at       BIGINT NOT NULL,
    answer          TEXT,
    answered_by     TEXT,
    answered_at     BIGINT
);
CREATE INDEX supervision_orders_department ON supervision_orders (department_code, issued_at);
CREATE INDEX supervision_orders_case ON supervision_orders (case_number);

-- The transactional outbox: rows written in the same transaction as the change they announce,
-- delivered afterwards (webhooks, search updates) with retries. `id` is a UUIDv7 (time-ordered).
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    topic           TEXT NOT NULL,
    subject         TEXT NOT NULL,
    department_code TEXT,
    payload         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    leased_until    BIGINT,
    delivered_at    BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL;

-- Idempotency keys of POSTs that create things: the first response is replayed for a repeated
-- key with the same request; a different request under the same key is a conflict.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Leases of background jobs: a job runs only on the replica holding its unexpired lease.
CREATE TABLE job_leases (
    name  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until BIGINT NOT NULL
);

-- Webhook subscriptions of department systems (new cases, supervision orders).
-- `secret` signs each delivery (HMAC-SHA256).
CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    department_code TEXT NOT NULL,
    url             TEXT NOT NULL,
    secret          TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX webhooks_department ON webhooks (department_code);
