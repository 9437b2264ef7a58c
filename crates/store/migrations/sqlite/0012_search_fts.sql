-- Quick search index on SQLite: one FTS5 table per module with searchable fields, holding each
-- record's grams (see store/src/search.rs) as one space-separated document under the record's
-- id. FTS5 writes a chunk's postings as one new sorted segment and merges segments as later
-- writes go on, where the B-tree of search_grams took a random page write per gram.
-- Contentless (the grams derive from the record's own columns), with deletes (an edit replaces
-- the record's document), no positions (a query only ANDs whole grams), and the ascii
-- tokenizer: grams are already cut and lower-cased, and it splits them at the spaces.
--
-- An existing index in search_grams is rebuilt into these tables from the records right after
-- the migrations (search::upgrade, memory-bounded batches), which then empties search_grams;
-- the table stays for the schema shared with PostgreSQL, which still uses it.
CREATE VIRTUAL TABLE search_customers USING fts5(
    grams, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);
CREATE VIRTUAL TABLE search_contacts USING fts5(
    grams, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);
CREATE VIRTUAL TABLE search_organisations USING fts5(
    grams, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
);
