-- Follow-ups (跟进记录), behaviour scoring (客户行为), classification and credit rules, public
-- pools (公海) with fall-back (回落), the ownership timeline, notifications and recurring jobs.

-- Behaviours a follow-up may name (客户行为) are the data dictionary's list `behaviour`; the
-- points each adds to the customer's score are kept here, by option code.
CREATE TABLE behaviour_points (
    code TEXT PRIMARY KEY,
    points INTEGER NOT NULL
);
INSERT INTO dictionary_items (dictionary, code, label_zh, label_en, sort_order) VALUES
    ('behaviour', 'no_answer', '客户不接电话', 'Does not answer the phone', 1),
    ('behaviour', 'budget_ok', '客户预算充足', 'Has the budget', 2),
    ('behaviour', 'asked_quote', '客户主动询价', 'Asked for a quote', 3),
    ('behaviour', 'visited', '客户来访', 'Visited us', 4),
    ('behaviour', 'complained', '客户投诉', 'Complained', 5);
INSERT INTO behaviour_points (code, points) VALUES
    ('no_answer', -10), ('budget_ok', 20), ('asked_quote', 15), ('visited', 10), ('complained', -15);

CREATE TABLE pools (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- Fall back after this many days without a follow-up (NULL: never for that reason).
    fall_back_days INTEGER,
    -- ... or without a won deal or order (the sales modules set customers.last_deal_at).
    no_deal_days INTEGER,
    -- Only customers of these types / credit levels fall back (JSON arrays; NULL: all).
    only_types TEXT,
    only_levels TEXT,
    -- Warn the owner this many days before the fall-back.
    warn_days INTEGER,
    -- Limits on members: customers one may own in all, claims per day, days before reclaiming
    -- a customer one released.
    max_owned INTEGER,
    max_claims_per_day INTEGER,
    reclaim_cooldown_days INTEGER,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Who belongs to a pool: users and departments (with everything below) as members, and managers.
CREATE TABLE pool_members (
    pool_id INTEGER NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    ref_id INTEGER NOT NULL,
    PRIMARY KEY (pool_id, kind, ref_id)
);

ALTER TABLE customers ADD COLUMN score INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN credit_level TEXT;
ALTER TABLE customers ADD COLUMN credit_manual BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE customers ADD COLUMN type_rule_id INTEGER;
ALTER TABLE customers ADD COLUMN credit_rule_id INTEGER;
ALTER TABLE customers ADD COLUMN pool_id INTEGER REFERENCES pools(id);
ALTER TABLE customers ADD COLUMN fall_back_at TEXT;
ALTER TABLE customers ADD COLUMN warn_at TEXT;
ALTER TABLE customers ADD COLUMN last_deal_at TEXT;
ALTER TABLE customers ADD COLUMN released_at TEXT;
ALTER TABLE customers ADD COLUMN owned_at TEXT;
-- The sweep reads only due customers: these indexes hold only customers with a deadline.
CREATE INDEX customers_fall_back ON customers(fall_back_at) WHERE fall_back_at IS NOT NULL;
CREATE INDEX customers_warn ON customers(warn_at) WHERE warn_at IS NOT NULL;
CREATE INDEX customers_pool ON customers(pool_id, id) WHERE pool_id IS NOT NULL;
CREATE INDEX customers_score ON customers(score, id);

INSERT INTO dictionary_items (dictionary, code, label_zh, label_en, sort_order) VALUES
    ('follow_up_type', 'call', '电话', 'Phone call', 1),
    ('follow_up_type', 'visit', '拜访', 'Visit', 2),
    ('follow_up_type', 'wechat', '微信', 'WeChat', 3),
    ('follow_up_type', 'email', '邮件', 'E-mail', 4),
    ('follow_up_type', 'meeting', '会议', 'Meeting', 5),
    ('credit_level', '1', '1 级（差）', 'Level 1 (poor)', 1),
    ('credit_level', '2', '2 级', 'Level 2', 2),
    ('credit_level', '3', '3 级', 'Level 3', 3),
    ('credit_level', '4', '4 级', 'Level 4', 4),
    ('credit_level', '5', '5 级（优）', 'Level 5 (excellent)', 5),
    ('release_reason', 'no_need', '客户暂无需求', 'No need for now', 1),
    ('release_reason', 'no_contact', '联系不上', 'Cannot be reached', 2),
    ('release_reason', 'workload', '精力有限', 'Too many customers', 3),
    ('release_reason', 'other', '其他', 'Other', 4);

-- 跟进记录: a module of the record engine.
CREATE TABLE follow_ups (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL DEFAULT 1,
    owner_id INTEGER REFERENCES users(id),
    department_id INTEGER REFERENCES departments(id),
    locked BOOLEAN NOT NULL DEFAULT FALSE,
    deleted_at TEXT,
    created_by INTEGER,
    created_at TEXT NOT NULL,
    updated_by INTEGER,
    updated_at TEXT NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    contact_id INTEGER REFERENCES contacts(id),
    kind TEXT,
    at TEXT NOT NULL,
    content TEXT,
    next_visit_at TEXT,
    next_visit_done BOOLEAN,
    custom TEXT
);
CREATE INDEX follow_ups_owner ON follow_ups(owner_id, id);
CREATE INDEX follow_ups_department ON follow_ups(department_id, id);
CREATE INDEX follow_ups_customer ON follow_ups(customer_id, at);
CREATE INDEX follow_ups_next_visit ON follow_ups(next_visit_at) WHERE next_visit_at IS NOT NULL;

-- The behaviours each follow-up named, with their points then (the score's explanation).
CREATE TABLE follow_up_behaviours (
    follow_up_id INTEGER NOT NULL REFERENCES follow_ups(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    behaviour TEXT NOT NULL,
    points INTEGER NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (follow_up_id, behaviour)
);
CREATE INDEX follow_up_behaviours_customer ON follow_up_behaviours(customer_id, at);

-- Who owned a customer when: claims, releases, assignments, fall-backs, transfers.
CREATE TABLE ownership_events (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    from_user INTEGER,
    to_user INTEGER,
    pool_id INTEGER,
    reason TEXT,
    by_user INTEGER
);
CREATE INDEX ownership_events_customer ON ownership_events(customer_id, id);
CREATE INDEX ownership_events_by ON ownership_events(by_user, event, at);
CREATE INDEX ownership_events_from ON ownership_events(from_user, customer_id, event, at);

-- Pool customers whose details a user opened, per day (the per-role daily limit).
CREATE TABLE pool_views (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    customer_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, day, customer_id)
);
ALTER TABLE roles ADD COLUMN pool_daily_views INTEGER;
ALTER TABLE roles ADD COLUMN pool_contacts_visible BOOLEAN NOT NULL DEFAULT TRUE;

-- Classification (客户自动分类) and credit (信用等级) rules, in priority order.
CREATE TABLE rules (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    conditions TEXT NOT NULL,
    result TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX rules_kind ON rules(kind, priority, id);

-- In-app notifications (站内消息): a kind, a message key with its arguments, a link.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    args TEXT NOT NULL,
    link TEXT,
    created_at TEXT NOT NULL,
    read_at TEXT
);
CREATE INDEX notifications_user ON notifications(user_id, id);
CREATE INDEX notifications_unread ON notifications(user_id, id) WHERE read_at IS NULL;

-- Recurring jobs: when each runs next; the runner queues a job when one is due.
CREATE TABLE schedules (
    name TEXT PRIMARY KEY,
    every_seconds INTEGER NOT NULL,
    next_run_at TEXT NOT NULL,
    last_run_at TEXT,
    last_job_id INTEGER
);
