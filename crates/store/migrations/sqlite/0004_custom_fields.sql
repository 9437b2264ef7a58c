-- Custom fields (扩展字段): definitions per module, values in a JSON column of each module's
-- table. Fields marked indexed get an expression index, created when the field is defined.
ALTER TABLE customers ADD COLUMN custom TEXT;
ALTER TABLE contacts ADD COLUMN custom TEXT;
ALTER TABLE organisations ADD COLUMN custom TEXT;

CREATE TABLE custom_fields (
    id INTEGER PRIMARY KEY,
    module TEXT NOT NULL,
    code TEXT NOT NULL,
    kind TEXT NOT NULL,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL,
    required BOOLEAN NOT NULL DEFAULT FALSE,
    dictionary TEXT,
    indexed BOOLEAN NOT NULL DEFAULT FALSE,
    list BOOLEAN NOT NULL DEFAULT FALSE,
    hidden BOOLEAN NOT NULL DEFAULT FALSE,
    retired BOOLEAN NOT NULL DEFAULT FALSE,
    sort_order INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (module, code)
);
