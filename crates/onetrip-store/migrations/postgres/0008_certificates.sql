-- Electronic certificates (电子证照库): certificate types, per-department seal keys with rotation,
-- serial allocation for GB/T 36904 identifiers, and the certificates themselves. Dates are civil
-- dates as 'YYYY-MM-DD' text; timestamps are microseconds since the Unix epoch (UTC).
-- The other backend's migration of the same name keeps the same shape.

-- One row per certificate type; `definition` is the JSON of onetrip_domain::certificate::CertificateType.
CREATE TABLE certificate_types (
    code               TEXT PRIMARY KEY,
    issuing_department TEXT NOT NULL,
    definition         TEXT NOT NULL,
    updated_at         BIGINT NOT NULL
);

-- Seal keys (电子印章密钥). A department has at most one active key (retired_at IS NULL);
-- retired keys stay so that old certificates remain verifiable. private_key_pem is NULL when the
-- key lives in an external signing server or HSM. department 'PLATFORM' signs presentations.
CREATE TABLE seal_keys (
    id              TEXT PRIMARY KEY,
    department      TEXT NOT NULL,
    public_key_pem  TEXT NOT NULL,
    private_key_pem TEXT,
    created_at      BIGINT NOT NULL,
    retired_at      BIGINT
);
CREATE INDEX seal_keys_department ON seal_keys (department);
CREATE UNIQUE INDEX seal_keys_one_active ON seal_keys (department) WHERE retired_at IS NULL;

-- Next serial number per (type code, issuer) scope.
CREATE TABLE certificate_serials (
    scope TEXT PRIMARY KEY,
    next  BIGINT NOT NULL
);

-- Certificates. `signed` is the canonical JSON that the seal signed (content included);
-- `content` repeats the content object for reading; `signature` is base64 of the DER signature.
CREATE TABLE certificates (
    id                TEXT PRIMARY KEY,
    type_code         TEXT NOT NULL REFERENCES certificate_types (code),
    holder_kind       TEXT NOT NULL,
    holder_id         TEXT NOT NULL,
    issuer            TEXT NOT NULL,
    content           TEXT NOT NULL,
    signed            TEXT NOT NULL,
    issued_on         TEXT NOT NULL,
    valid_until       TEXT,
    issued_at         BIGINT NOT NULL,
    revoked_at        BIGINT,
    revocation_reason TEXT,
    seal_key_id       TEXT NOT NULL REFERENCES seal_keys (id),
    signature         TEXT NOT NULL
);
CREATE INDEX certificates_holder ON certificates (holder_kind, holder_id, type_code);
