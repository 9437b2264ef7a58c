-- Background jobs, run by `guanxi serve`: claimed with a lease, so a job whose server died is
-- picked up again once the lease runs out (on SQLite, at once on start-up).
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    run_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    locked_by TEXT,
    locked_until TEXT,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX jobs_due ON jobs(state, run_at);

-- Imports: the uploaded file, its mapping, the dry run's and the write's counts, and the
-- position of the write (rows of the file done), kept in the same transaction as each chunk.
CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    module TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_path TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    format TEXT NOT NULL,
    encoding TEXT NOT NULL,
    sheet TEXT,
    headers TEXT NOT NULL,
    mapping TEXT,
    on_duplicate TEXT NOT NULL DEFAULT 'skip',
    state TEXT NOT NULL,
    total_rows INTEGER NOT NULL DEFAULT 0,
    error_rows INTEGER NOT NULL DEFAULT 0,
    duplicate_rows INTEGER NOT NULL DEFAULT 0,
    created_rows INTEGER NOT NULL DEFAULT 0,
    updated_rows INTEGER NOT NULL DEFAULT 0,
    skipped_rows INTEGER NOT NULL DEFAULT 0,
    reverted_rows INTEGER NOT NULL DEFAULT 0,
    position INTEGER NOT NULL DEFAULT 0,
    message TEXT,
    started_at TEXT,
    finished_at TEXT,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX imports_module ON imports(module, id);

-- Rows that failed a check, with the reasons; a user's correction replaces the cells.
CREATE TABLE import_rows (
    import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    line INTEGER NOT NULL,
    cells TEXT NOT NULL,
    errors TEXT NOT NULL,
    fixed BOOLEAN NOT NULL DEFAULT FALSE,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (import_id, line)
);

-- What an import wrote, so that it can be reverted: created records, and updated ones with the
-- values they had before.
CREATE TABLE import_items (
    import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    record_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    before TEXT,
    PRIMARY KEY (import_id, record_id)
);

-- The last column mapping a user chose per module (header -> field).
CREATE TABLE import_mappings (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    module TEXT NOT NULL,
    mapping TEXT NOT NULL,
    PRIMARY KEY (user_id, module)
);
