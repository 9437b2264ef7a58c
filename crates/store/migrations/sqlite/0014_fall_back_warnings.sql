-- The time to warn an owner of a customer's coming fall-back, out of `customers` into a table of
-- its own: giving a warning deletes its row here instead of rewriting the customer's row and an
-- entry in each of its indexes. A customer has a row only while a warning is still to be given.
CREATE TABLE fall_back_warnings (
    customer_id INTEGER PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
    warn_at TEXT NOT NULL
);
INSERT INTO fall_back_warnings (customer_id, warn_at)
    SELECT id, warn_at FROM customers WHERE warn_at IS NOT NULL AND fall_back_at IS NOT NULL
    AND owner_id IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX fall_back_warnings_at ON fall_back_warnings(warn_at);
DROP INDEX customers_warn;
ALTER TABLE customers DROP COLUMN warn_at;
