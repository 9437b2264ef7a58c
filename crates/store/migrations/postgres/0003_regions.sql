-- Regions (地区): the province / city / district tree of China. The built-in rows (GB/T 2260
-- codes) are copied from crates/store/data/regions.tsv after migrating; administrators add
-- custom regions (builtin = FALSE) whose code is the parent's code plus a suffix.
CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    parent_code TEXT REFERENCES regions(code),
    name TEXT NOT NULL,
    level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 3),
    builtin BOOLEAN NOT NULL DEFAULT TRUE,
    sort_order INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX regions_parent ON regions(parent_code);
CREATE UNIQUE INDEX regions_sibling_name ON regions(COALESCE(parent_code, ''), name);
