-- Quick search index on SQLite: one FTS5 table per module with searchable fields, holding each
-- record's grams (see store/src/search.rs) as one space-separated document under the record's
-- id. FTS5 writes a chunk's postings as one new sorted segment and merges segments in the
-- background of later writes, where the B-tree of search_grams took a random page write per
-- gram. Contentless (the grams are derived from the record's own columns), with deletes (an
-- edit replaces the record's document), no positions (a query only ANDs whole grams), and the
-- ascii tokenizer: grams are already cut and lower-cased, and it splits on spaces only.
CREATE VIRTUAL TABLE search_customers USING fts5(
    grams, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);
CREATE VIRTUAL TABLE search_contacts USING fts5(
    grams, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);
CREATE VIRTUAL TABLE search_organisations USING fts5(
    grams, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);

-- The existing index moves over, one document per record.
INSERT INTO search_customers (rowid, grams)
SELECT record_id, group_concat(gram, ' ') FROM search_grams
WHERE module = 'customers' GROUP BY record_id;
INSERT INTO search_contacts (rowid, grams)
SELECT record_id, group_concat(gram, ' ') FROM search_grams
WHERE module = 'contacts' GROUP BY record_id;
INSERT INTO search_organisations (rowid, grams)
SELECT record_id, group_concat(gram, ' ') FROM search_grams
WHERE module = 'organisations' GROUP BY record_id;

-- search_grams stays (empty) for the schema shared with PostgreSQL, which still uses it.
DELETE FROM search_grams;
