-- Data sharing (公共数据共享): the data catalog, access requests, grants, records pushed by
-- provider systems, and the access log (调用日志). Timestamps are BIGINT microseconds since the
-- Unix epoch (UTC); civil dates are 'YYYY-MM-DD'; lists and documents are JSON TEXT. The other
-- backend's migration of the same name keeps the same shape.

-- The data catalog: doc is the whole resource (onetrip_domain::sharing::DataResource) as JSON;
-- the other columns are copies for searching and filtering.
CREATE TABLE data_resources (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    provider      TEXT NOT NULL,
    provider_name TEXT NOT NULL,
    sharing       TEXT NOT NULL,
    doc           TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX data_resources_provider ON data_resources (provider);

-- Access requests: consumer_kind is client or item; status pending, approved or rejected;
-- due_on is the provider's deadline (conditional resources).
CREATE TABLE data_access_requests (
    id            TEXT PRIMARY KEY,
    consumer_kind TEXT NOT NULL,
    consumer_id   TEXT NOT NULL,
    resource      TEXT NOT NULL REFERENCES data_resources (code),
    provider      TEXT NOT NULL,
    fields        TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    valid_until   TEXT NOT NULL,
    status        TEXT NOT NULL,
    due_on        TEXT,
    requested_by  TEXT NOT NULL,
    requested_at  BIGINT NOT NULL,
    decided_by    TEXT,
    decided_at    BIGINT,
    decision_note TEXT
);
CREATE INDEX data_access_requests_provider ON data_access_requests (provider, status);
CREATE INDEX data_access_requests_consumer ON data_access_requests (consumer_kind, consumer_id);

-- Grants: fields is a JSON list of keys; valid through valid_until (China time).
CREATE TABLE data_grants (
    id            TEXT PRIMARY KEY,
    consumer_kind TEXT NOT NULL,
    consumer_id   TEXT NOT NULL,
    resource      TEXT NOT NULL REFERENCES data_resources (code),
    fields        TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    valid_until   TEXT NOT NULL,
    request_id    TEXT,
    granted_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX data_grants_consumer ON data_grants (consumer_kind, consumer_id, resource);

-- Records pushed by provider systems: one JSON object of field -> value per subject (resident
-- ID or credit code). Registry-backed resources are read from the base registries instead.
CREATE TABLE data_records (
    resource   TEXT NOT NULL REFERENCES data_resources (code),
    subject    TEXT NOT NULL,
    fields     TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (resource, subject)
);

-- The access log: one row per access, refused ones included (outcome allowed, not_found,
-- refused, rate_limited; refusal is the problem code). Append-only.
CREATE TABLE data_access_log (
    id            TEXT PRIMARY KEY,
    at            BIGINT NOT NULL,
    consumer_kind TEXT NOT NULL,
    consumer_id   TEXT NOT NULL,
    resource      TEXT NOT NULL,
    provider      TEXT NOT NULL,
    subject       TEXT NOT NULL,
    fields        TEXT NOT NULL,
    masked_fields TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    case_ref      TEXT,
    outcome       TEXT NOT NULL,
    refusal       TEXT
);
CREATE INDEX data_access_log_provider ON data_access_log (provider, at);
CREATE INDEX data_access_log_consumer ON data_access_log (consumer_kind, consumer_id, at);
CREATE INDEX data_access_log_subject ON data_access_log (subject, at);
