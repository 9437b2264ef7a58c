-- Secondary indexes a large import set aside while it writes (built again, by one sort each,
-- when it ends). Kept here in the same transaction as their DROP, so that a process killed in
-- the middle leaves their definitions behind: the next start builds them again.
CREATE TABLE deferred_indexes (
    name TEXT PRIMARY KEY,
    table_name TEXT NOT NULL,
    definition TEXT NOT NULL,
    deferred_at TIMESTAMPTZ NOT NULL
);
