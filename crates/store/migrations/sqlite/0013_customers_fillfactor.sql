-- PostgreSQL leaves room on each page of customers for updated rows (fillfactor); SQLite
-- updates rows in place and has no such setting. Nothing changes here.
SELECT 1;
