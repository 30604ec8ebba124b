-- Identity, part 2: the authentication audit log (grown from the sign-in history), web sessions,
-- staff role grants and TOTP, delegations to agents, and the OpenID Connect provider (clients,
-- codes, refresh tokens, signing keys).
-- Timestamps are BIGINT microseconds since the Unix epoch (UTC); lists and maps are JSON TEXT;
-- every bearer secret (session id, code, token, client secret) is stored as its SHA-256 hex
-- digest, never in clear. The other backend's migration of the same name keeps the same shape.

-- The sign-in history becomes the audit log of every authentication event. kind is sign_in,
-- otp_issued, step_up, sign_out, role_change, staff_created, totp_enrolled,
-- delegation_granted, delegation_revoked, client_registered, refresh_replay…; login_digest is
-- the digest of the login name typed (throttling counts per name, known or not).
ALTER TABLE sign_ins RENAME TO auth_events;
ALTER TABLE auth_events ADD COLUMN kind TEXT NOT NULL DEFAULT 'sign_in';
ALTER TABLE auth_events ADD COLUMN login_digest TEXT;
ALTER TABLE auth_events ADD COLUMN detail TEXT;
DROP INDEX sign_ins_account_at;
CREATE INDEX auth_events_account_at ON auth_events (account_id, at);
CREATE INDEX auth_events_login_at ON auth_events (login_digest, at);
CREATE INDEX auth_events_ip_at ON auth_events (ip, at);

-- Web sessions (tower-sessions records); id_digest is the digest of the cookie value.
CREATE TABLE web_sessions (
    id_digest  TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);

-- Staff: roles is now a JSON list of grants {role, division, department?}; the division of the
-- member of staff; TOTP replay protection; accounts can be disabled.
ALTER TABLE staff ADD COLUMN division_code TEXT NOT NULL DEFAULT '';
ALTER TABLE staff ADD COLUMN totp_last_step BIGINT;
ALTER TABLE staff ADD COLUMN disabled BIGINT NOT NULL DEFAULT 0;

-- Delegations (授权代办): scope_items is NULL for every item, else a JSON list of item codes.
-- Dates are civil dates 'YYYY-MM-DD'.
CREATE TABLE delegations (
    id             TEXT PRIMARY KEY,
    organisation   TEXT NOT NULL REFERENCES organisations (credit_code),
    agent          TEXT NOT NULL REFERENCES persons (id),
    scope_items    TEXT,
    valid_from     TEXT NOT NULL,
    valid_to       TEXT NOT NULL,
    granted_by     TEXT NOT NULL,
    granted_at     BIGINT NOT NULL,
    revoked_on     TEXT,
    revoked_reason TEXT,
    revoked_at     BIGINT
);
CREATE INDEX delegations_organisation ON delegations (organisation);
CREATE INDEX delegations_agent ON delegations (agent);

-- OpenID Connect clients (department systems and machine clients). secret_digest is NULL for
-- public clients (PKCE only); redirect_uris, post_logout_redirect_uris, grant_types and scopes
-- are JSON lists.
CREATE TABLE oidc_clients (
    client_id                 TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    secret_digest             TEXT,
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    grant_types               TEXT NOT NULL,
    scopes                    TEXT NOT NULL,
    department_code           TEXT,
    created_at                BIGINT NOT NULL,
    disabled                  BIGINT NOT NULL DEFAULT 0
);

-- Authorization codes, spent once.
CREATE TABLE oidc_codes (
    code_digest    TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES oidc_clients (client_id),
    redirect_uri   TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    scope          TEXT NOT NULL,
    nonce          TEXT,
    code_challenge TEXT NOT NULL,
    acr            TEXT NOT NULL,
    amr            TEXT NOT NULL,
    auth_time      BIGINT NOT NULL,
    acting_for     TEXT,
    session_ref    TEXT,
    expires_at     BIGINT NOT NULL,
    spent_at       BIGINT
);

-- Refresh tokens; family is the id of the first token of a grant, so that a replay revokes
-- the whole chain.
CREATE TABLE oidc_refresh_tokens (
    token_digest TEXT PRIMARY KEY,
    family       TEXT NOT NULL,
    client_id    TEXT NOT NULL REFERENCES oidc_clients (client_id),
    account_id   TEXT NOT NULL,
    scope        TEXT NOT NULL,
    acr          TEXT NOT NULL,
    amr          TEXT NOT NULL,
    auth_time    BIGINT NOT NULL,
    acting_for   TEXT,
    session_ref  TEXT,
    issued_at    BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    spent_at     BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX oidc_refresh_tokens_family ON oidc_refresh_tokens (family);
CREATE INDEX oidc_refresh_tokens_session ON oidc_refresh_tokens (session_ref);

-- Token signing keys (private key as PKCS#8 PEM), newest first in use; retired keys stay
-- published until the tokens they signed have expired.
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    private_pem TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);
