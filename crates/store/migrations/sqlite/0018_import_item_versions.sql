-- The version each record had right after an import wrote it, so that a revert leaves alone
-- the records changed since (counted in kept_rows) instead of undoing those changes too.
ALTER TABLE import_items ADD COLUMN version INTEGER;
ALTER TABLE imports ADD COLUMN kept_rows BIGINT NOT NULL DEFAULT 0;
