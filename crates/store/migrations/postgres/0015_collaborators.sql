-- Collaborators (协作人): users besides the owner who work on a record. They see it and may
-- edit it; the data scope of their view and edit grants adds these rows.
CREATE TABLE record_collaborators (
    module TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    added_by BIGINT,
    added_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (module, record_id, user_id)
);
CREATE INDEX record_collaborators_user ON record_collaborators(user_id, module, record_id);
