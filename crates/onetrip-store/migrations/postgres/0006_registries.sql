-- Base registries (基础库): the population registry (人口综合库) and the legal-person registry
-- (法人综合库). The persons of the population registry stay in population_registry (real-name
-- verification reads it), which gains the other fields of a person; existing rows get their sex,
-- date of birth and division from their resident ID number. Dates are TEXT 'YYYY-MM-DD'.
-- No foreign keys between the registries: they are loaded in any order from different provider
-- systems (a marriage may arrive before the persons it names). Every read of the contract is one
-- index lookup. The other backend's migration of the same name keeps the same shape.
ALTER TABLE population_registry ADD COLUMN sex TEXT;
ALTER TABLE population_registry ADD COLUMN birth_date TEXT;
ALTER TABLE population_registry ADD COLUMN ethnicity TEXT;
ALTER TABLE population_registry ADD COLUMN division_code TEXT;
ALTER TABLE population_registry ADD COLUMN household_id TEXT;
ALTER TABLE population_registry ADD COLUMN death_date TEXT;

UPDATE population_registry SET
    sex = CASE WHEN substr(resident_id, 17, 1) IN ('1', '3', '5', '7', '9') THEN 'male' ELSE 'female' END,
    birth_date = substr(resident_id, 7, 4) || '-' || substr(resident_id, 11, 2) || '-' || substr(resident_id, 13, 2),
    division_code = substr(resident_id, 1, 6)
WHERE length(resident_id) = 18;

CREATE INDEX population_registry_household ON population_registry (household_id);

CREATE TABLE registry_households (
    id               TEXT PRIMARY KEY,
    division_code    TEXT NOT NULL,
    address          TEXT NOT NULL,
    head_resident_id TEXT
);

CREATE TABLE registry_marriages (
    id                  TEXT PRIMARY KEY,
    husband_resident_id TEXT NOT NULL,
    wife_resident_id    TEXT NOT NULL,
    registered_on       TEXT NOT NULL,
    divorced_on         TEXT,
    division_code       TEXT NOT NULL
);
CREATE INDEX registry_marriages_husband ON registry_marriages (husband_resident_id);
CREATE INDEX registry_marriages_wife ON registry_marriages (wife_resident_id);

CREATE TABLE registry_births (
    medical_certificate_number TEXT PRIMARY KEY,
    child_name                 TEXT NOT NULL,
    child_sex                  TEXT NOT NULL,
    child_resident_id          TEXT,
    mother_resident_id         TEXT NOT NULL,
    father_resident_id         TEXT,
    birth_date                 TEXT NOT NULL,
    hospital                   TEXT NOT NULL
);
CREATE INDEX registry_births_mother ON registry_births (mother_resident_id);
CREATE INDEX registry_births_father ON registry_births (father_resident_id);

CREATE TABLE registry_deaths (
    resident_id TEXT PRIMARY KEY,
    death_date  TEXT NOT NULL,
    place       TEXT NOT NULL
);

CREATE TABLE legal_person_registry (
    credit_code                      TEXT PRIMARY KEY,
    name                             TEXT NOT NULL,
    kind                             TEXT NOT NULL,
    legal_representative_resident_id TEXT NOT NULL,
    legal_representative_name        TEXT NOT NULL,
    status                           TEXT NOT NULL,
    address                          TEXT NOT NULL,
    division_code                    TEXT NOT NULL,
    established_on                   TEXT NOT NULL
);
CREATE INDEX legal_person_registry_representative
    ON legal_person_registry (legal_representative_resident_id);
