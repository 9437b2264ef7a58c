-- Saved list views: a filter, sort and chosen columns, personal or shared.
CREATE TABLE saved_views (
    id INTEGER PRIMARY KEY,
    module TEXT NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    columns TEXT NOT NULL,
    shared BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL
);
CREATE INDEX saved_views_module_owner ON saved_views(module, owner_id);
