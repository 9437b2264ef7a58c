-- SQLite moves its quick-search index to FTS5 tables (search_<module>) in this migration.
-- PostgreSQL keeps search_grams: COPY appends a chunk's grams in gram order, and its B-tree
-- pages stay in shared buffers. Nothing changes here.
SELECT 1;
