-- The population registry (人口库) that real-name verification (assurance L2) checks a person's
-- resident ID number and name against. Until the data-platform issue brings the full registry,
-- it is filled from the demo seed (data/demo/population.json). status is 'active', 'deceased'
-- or 'cancelled' (注销). The other backend's migration of the same name keeps the same shape.
CREATE TABLE population_registry (
    resident_id TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active'
);
