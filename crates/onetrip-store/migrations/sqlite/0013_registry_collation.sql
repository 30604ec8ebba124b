-- The PostgreSQL migration of the same name declares the registries' identifier columns
-- COLLATE "C" (bytewise). SQLite's TEXT columns compare bytewise (BINARY) already, so nothing
-- changes here; the file keeps the two backends' migration lists identical.
SELECT 1;
