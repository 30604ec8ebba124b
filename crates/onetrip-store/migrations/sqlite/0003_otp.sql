-- SMS one-time codes and the sandbox SMS outbox.
-- otp_challenges keeps the SHA-256 digest of (id || code), never the code. attempts counts the
-- wrong codes; consumed is 0 or 1. Timestamps are BIGINT microseconds since the Unix epoch (UTC).
-- sms_messages is written by the sandbox gateway only, so that tests and a development page
-- can read what would have been sent. The other backend's migration of the same name keeps the
-- same shape.
CREATE TABLE otp_challenges (
    id          TEXT PRIMARY KEY,
    phone       TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    code_digest TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    attempts    BIGINT NOT NULL,
    consumed    BIGINT NOT NULL
);
CREATE INDEX otp_challenges_phone_issued_at ON otp_challenges (phone, issued_at);

CREATE TABLE sms_messages (
    id       TEXT PRIMARY KEY,
    phone    TEXT NOT NULL,
    template TEXT NOT NULL,
    body     TEXT NOT NULL,
    status   TEXT NOT NULL,
    sent_at  BIGINT NOT NULL
);
CREATE INDEX sms_messages_phone_sent_at ON sms_messages (phone, sent_at);
