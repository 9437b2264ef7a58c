-- An import of customers may put them straight into a public pool instead of giving them an
-- owner: the import remembers which pool, so a resumed write goes on into the same one.
ALTER TABLE imports ADD COLUMN pool_id BIGINT REFERENCES pools(id) ON DELETE SET NULL;
