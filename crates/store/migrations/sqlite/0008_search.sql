-- Quick search index: the 1- and 2-character pieces of Chinese text and the 2- and 3-character
-- pieces of letters and digits (phones, e-mail, pinyin) of each record's searchable fields.
CREATE TABLE search_grams (
    module TEXT NOT NULL,
    gram TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    PRIMARY KEY (module, gram, record_id)
) WITHOUT ROWID;
