-- Attachments (资料上传): files on any record of the engine, kept in the database so that every
-- server instance sees them. Lists read the metadata only; `content` is read for a download.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    module TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    uploaded_by INTEGER REFERENCES users(id),
    uploaded_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX attachments_record ON attachments(module, record_id);
