-- The record engine's first modules (customers, contacts, organisations), their change history
-- and the data dictionary. Every record has a version (optimistic concurrency), an owner and the
-- owner's department (data scope), a lock flag, and deleted_at (recycle bin).
CREATE TABLE customers (
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
    name TEXT NOT NULL,
    pinyin TEXT,
    customer_type TEXT,
    source TEXT,
    industry TEXT,
    level TEXT,
    region TEXT,
    address TEXT,
    phone TEXT,
    website TEXT,
    tags TEXT,
    notes TEXT,
    last_follow_up_at TEXT
);
CREATE INDEX customers_owner ON customers(owner_id, id);
CREATE INDEX customers_department ON customers(department_id, id);
CREATE INDEX customers_name ON customers(name, id);
CREATE INDEX customers_owner_name ON customers(owner_id, name, id);
CREATE INDEX customers_department_name ON customers(department_id, name, id);
CREATE INDEX customers_phone ON customers(phone);
CREATE INDEX customers_updated ON customers(updated_at, id);

CREATE TABLE organisations (
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
    name TEXT NOT NULL,
    credit_code TEXT,
    industry TEXT,
    address TEXT
);
CREATE INDEX organisations_owner ON organisations(owner_id, id);
CREATE INDEX organisations_department ON organisations(department_id, id);
CREATE INDEX organisations_name ON organisations(name, id);
CREATE INDEX organisations_credit_code ON organisations(credit_code);

CREATE TABLE contacts (
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
    name TEXT NOT NULL,
    gender TEXT,
    title TEXT,
    mobile TEXT,
    phone TEXT,
    email TEXT,
    wechat TEXT,
    birthday DATE,
    customer_id INTEGER REFERENCES customers(id),
    organisation_id INTEGER REFERENCES organisations(id),
    is_primary BOOLEAN
);
CREATE INDEX contacts_owner ON contacts(owner_id, id);
CREATE INDEX contacts_department ON contacts(department_id, id);
CREATE INDEX contacts_name ON contacts(name, id);
CREATE INDEX contacts_mobile ON contacts(mobile);
CREATE INDEX contacts_email ON contacts(email);
CREATE INDEX contacts_customer ON contacts(customer_id);
CREATE INDEX contacts_organisation ON contacts(organisation_id);

-- 修改历史: one row per changed field (or per create / delete / restore / lock event).
CREATE TABLE record_history (
    id INTEGER PRIMARY KEY,
    module TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    at TEXT NOT NULL,
    user_id INTEGER,
    username TEXT,
    event TEXT NOT NULL,
    field TEXT,
    old_value TEXT,
    new_value TEXT
);
CREATE INDEX record_history_record ON record_history(module, record_id, id);
CREATE INDEX record_history_at ON record_history(at);
CREATE INDEX record_history_user_at ON record_history(user_id, at);

-- 数据字典: option lists with labels in both languages.
CREATE TABLE dictionary_items (
    id INTEGER PRIMARY KEY,
    dictionary TEXT NOT NULL,
    code TEXT NOT NULL,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (dictionary, code)
);

INSERT INTO dictionary_items (dictionary, code, label_zh, label_en, sort_order) VALUES
    ('customer_type', 'a', 'A 类（重点）', 'A (key account)', 1),
    ('customer_type', 'b', 'B 类（普通）', 'B (regular)', 2),
    ('customer_type', 'c', 'C 类（一般）', 'C (occasional)', 3),
    ('customer_type', 'prospect', '潜在客户', 'Prospect', 4),
    ('customer_source', 'phone', '电话营销', 'Telemarketing', 1),
    ('customer_source', 'web', '网络推广', 'Online marketing', 2),
    ('customer_source', 'referral', '客户介绍', 'Referral', 3),
    ('customer_source', 'exhibition', '展会', 'Trade show', 4),
    ('customer_source', 'walk_in', '主动来访', 'Walk-in', 5),
    ('customer_source', 'other', '其他', 'Other', 6),
    ('industry', 'manufacturing', '制造业', 'Manufacturing', 1),
    ('industry', 'retail', '批发零售', 'Wholesale and retail', 2),
    ('industry', 'it', '信息技术', 'Information technology', 3),
    ('industry', 'construction', '建筑业', 'Construction', 4),
    ('industry', 'finance', '金融', 'Finance', 5),
    ('industry', 'education', '教育', 'Education', 6),
    ('industry', 'healthcare', '医疗健康', 'Healthcare', 7),
    ('industry', 'logistics', '交通物流', 'Logistics', 8),
    ('industry', 'other', '其他', 'Other', 9),
    ('customer_level', 'vip', '重点', 'Key', 1),
    ('customer_level', 'normal', '普通', 'Normal', 2),
    ('customer_level', 'low', '一般', 'Low', 3),
    ('gender', 'male', '男', 'Male', 1),
    ('gender', 'female', '女', 'Female', 2);
