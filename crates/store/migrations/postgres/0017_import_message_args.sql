-- The arguments of an import's message (JSON object), so that "row 12 cannot be read" keeps
-- its row number.
ALTER TABLE imports ADD COLUMN message_args TEXT;
