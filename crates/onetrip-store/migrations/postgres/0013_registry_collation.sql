-- The registries' identifier columns compare byte by byte (COLLATE "C"). They hold ASCII
-- identifiers (resident IDs, credit codes, record numbers), whose order under the database's
-- default collation (C.UTF-8, or a locale such as zh_CN.UTF-8) is the same or irrelevant, but
-- PostgreSQL sorts "C" with abbreviated keys and memcmp instead of strcoll: building the
-- primary key of 10 million persons took 30 % less in a measurement (docs/BENCHMARKS.md,
-- Registries), and lookups compare faster too. Rewrites the tables and their indexes once.
-- The SQLite migration of the same name changes nothing: SQLite compares TEXT bytewise already.
ALTER TABLE population_registry
    ALTER COLUMN resident_id TYPE TEXT COLLATE "C",
    ALTER COLUMN household_id TYPE TEXT COLLATE "C";
ALTER TABLE registry_households
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN head_resident_id TYPE TEXT COLLATE "C";
ALTER TABLE registry_marriages
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN husband_resident_id TYPE TEXT COLLATE "C",
    ALTER COLUMN wife_resident_id TYPE TEXT COLLATE "C";
ALTER TABLE registry_births
    ALTER COLUMN medical_certificate_number TYPE TEXT COLLATE "C",
    ALTER COLUMN mother_resident_id TYPE TEXT COLLATE "C",
    ALTER COLUMN father_resident_id TYPE TEXT COLLATE "C";
ALTER TABLE registry_deaths
    ALTER COLUMN resident_id TYPE TEXT COLLATE "C";
ALTER TABLE legal_person_registry
    ALTER COLUMN credit_code TYPE TEXT COLLATE "C",
    ALTER COLUMN legal_representative_resident_id TYPE TEXT COLLATE "C";
