-- Accounts: persons (自然人), organisations (法人), staff (工作人员) and the sign-in history.
-- Ids are UUID v7 strings; timestamps are BIGINT microseconds since the Unix epoch (UTC); lists
-- are JSON TEXT. resident_id holds the full ID number: personal data, never logged.
-- The PostgreSQL migration of the same name keeps the same shape.
CREATE TABLE persons (
    id              TEXT PRIMARY KEY,
    resident_id     TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    phone           TEXT NOT NULL UNIQUE,
    email           TEXT,
    assurance_level TEXT NOT NULL,
    password_hash   TEXT,
    created_at      BIGINT NOT NULL
);

CREATE TABLE organisations (
    credit_code          TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    kind                 TEXT NOT NULL,
    legal_representative TEXT NOT NULL REFERENCES persons (id),
    created_at           BIGINT NOT NULL
);
CREATE INDEX organisations_legal_representative ON organisations (legal_representative);

CREATE TABLE staff (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    department_code TEXT NOT NULL REFERENCES departments (code),
    roles           TEXT NOT NULL,
    password_hash   TEXT,
    totp_secret     TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX staff_department ON staff (department_code);

-- account_id is NULL for attempts naming no known account.
CREATE TABLE sign_ins (
    id           TEXT PRIMARY KEY,
    account_kind TEXT NOT NULL,
    account_id   TEXT,
    method       TEXT NOT NULL,
    succeeded    BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    ip           TEXT
);
CREATE INDEX sign_ins_account_at ON sign_ins (account_id, at);
