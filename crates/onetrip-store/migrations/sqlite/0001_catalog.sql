-- Catalog: divisions, departments, service items with versions, calendar schedules.
-- Timestamps are BIGINT microseconds since the Unix epoch (UTC); dates are TEXT 'YYYY-MM-DD';
-- documents are JSON TEXT. The PostgreSQL migration of the same name keeps the same shape.
CREATE TABLE divisions (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_en     TEXT,
    parent_code TEXT,
    level       TEXT NOT NULL
);

CREATE TABLE departments (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    name_en       TEXT,
    division_code TEXT NOT NULL REFERENCES divisions (code),
    offices       TEXT NOT NULL
);
CREATE INDEX departments_division ON departments (division_code);

CREATE TABLE service_items (
    implementation_code TEXT PRIMARY KEY,
    base_code           TEXT NOT NULL,
    handling_code       TEXT UNIQUE,
    parent_code         TEXT,
    name                TEXT NOT NULL,
    item_type           TEXT NOT NULL,
    department_code     TEXT NOT NULL REFERENCES departments (code),
    division_code       TEXT NOT NULL REFERENCES divisions (code),
    service_object      TEXT NOT NULL,
    status              TEXT NOT NULL,
    life_events         TEXT NOT NULL,
    current_version     BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX service_items_division ON service_items (division_code);
CREATE INDEX service_items_department ON service_items (department_code);
CREATE INDEX service_items_parent ON service_items (parent_code);

CREATE TABLE service_item_versions (
    implementation_code TEXT NOT NULL REFERENCES service_items (implementation_code),
    version             BIGINT NOT NULL,
    document            TEXT NOT NULL,
    published_at        BIGINT NOT NULL,
    PRIMARY KEY (implementation_code, version)
);

CREATE TABLE calendar_years (
    year        BIGINT PRIMARY KEY,
    schedule    TEXT NOT NULL,
    imported_at BIGINT NOT NULL
);
