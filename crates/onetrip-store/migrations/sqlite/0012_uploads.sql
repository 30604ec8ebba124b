-- Uploaded files (issue 5/6): the record of each file an applicant or a window clerk uploaded.
-- The content lives in the object store under `sm3/<digest>` (content-addressed), so sending the
-- same file twice stores it once; the record says who uploaded it, under which name and type.
CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    uploaded_by TEXT NOT NULL,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    sm3 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (uploaded_by, sm3, name)
);
