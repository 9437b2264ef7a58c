//! The engine modules' part of the OpenAPI document, generated per request from the module
//! declarations and the current custom fields, so a new custom field is documented at once.

use guanxi_core::engine::{FieldKind, Fields, MODULES, ModuleDef, def_of};
use serde_json::{Map, Value, json};

use crate::state::AppState;

fn schema_of(kind: FieldKind) -> Value {
    match kind {
        k if k.is_integer() && k != FieldKind::Money => {
            json!({ "type": ["integer", "null"], "format": "int64" })
        }
        FieldKind::Money => {
            json!({ "type": ["integer", "null"], "format": "int64", "description": "cents (分); send yuan as a number or string" })
        }
        FieldKind::Decimal | FieldKind::Percent => json!({ "type": ["number", "null"] }),
        FieldKind::Checkbox => json!({ "type": ["boolean", "null"] }),
        FieldKind::Date => json!({ "type": ["string", "null"], "format": "date" }),
        FieldKind::DateTime => json!({ "type": ["string", "null"], "format": "date-time" }),
        FieldKind::MultiSelect => {
            json!({ "type": ["array", "null"], "items": { "type": "string" } })
        }
        FieldKind::Email => json!({ "type": ["string", "null"], "format": "email" }),
        FieldKind::Url => json!({ "type": ["string", "null"], "format": "uri" }),
        _ => json!({ "type": ["string", "null"] }),
    }
}

fn record_schema(fs: &Fields) -> Value {
    let mut props = Map::new();
    for (k, t) in [
        ("id", "integer"),
        ("version", "integer"),
        ("owner_id", "integer"),
        ("department_id", "integer"),
    ] {
        props.insert(k.into(), json!({ "type": t, "readOnly": true }));
    }
    props.insert(
        "locked".into(),
        json!({ "type": "boolean", "readOnly": true }),
    );
    for k in ["created_at", "updated_at"] {
        props.insert(
            k.into(),
            json!({ "type": "string", "format": "date-time", "readOnly": true }),
        );
    }
    // Who created and last changed the record (user ids; empty for imported or generated data).
    for k in ["created_by", "updated_by"] {
        props.insert(
            k.into(),
            json!({ "type": ["integer", "null"], "format": "int64", "readOnly": true }),
        );
    }
    props.insert(
        "owner_name".into(),
        json!({ "type": ["string", "null"], "readOnly": true }),
    );
    props.insert(
        "deleted_at".into(),
        json!({ "type": ["string", "null"], "format": "date-time", "readOnly": true, "description": "set for records in the recycle bin" }),
    );
    // Hidden fields are kept for search (the pinyin of a name): answered, never written.
    for f in fs.iter() {
        let mut s = schema_of(f.kind);
        if f.hidden {
            s["description"] = json!("kept up to date by the system for the quick search");
        }
        if let Some((zh, en)) = f.label {
            s["title"] = json!(format!("{zh} / {en}"));
            s["x-custom-field"] = json!(true);
        }
        if let Some(d) = f.dictionary {
            s["description"] = json!(format!(
                "a code of the data dictionary list `{d}` (GET /api/v1/dictionary/{d}); labels are accepted too"
            ));
        }
        if f.read_only {
            s["readOnly"] = json!(true);
        }
        props.insert(f.code.into(), s);
    }
    let required: Vec<&str> = fs.iter().filter(|f| f.required).map(|f| f.code).collect();
    json!({ "type": "object", "properties": props, "required": required })
}

fn op(tag: &str, summary: &str, body: Option<&str>, ok: (u16, Option<String>)) -> Value {
    let mut o = json!({ "tags": [tag], "summary": summary, "responses": {} });
    if let Some(b) = body {
        o["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "$ref": b } } } });
    }
    let resp = match ok.1 {
        Some(schema) => {
            json!({ "description": "OK", "content": { "application/json": { "schema": { "$ref": schema } } } })
        }
        None => json!({ "description": "OK" }),
    };
    o["responses"][ok.0.to_string()] = resp;
    for (code, what) in [
        ("401", "not signed in"),
        ("403", "no permission"),
        ("404", "not found or outside your data scope"),
        (
            "409",
            "locked, or a newer version exists (`error.current` holds it)",
        ),
        ("422", "invalid fields (`error.fields`)"),
    ] {
        o["responses"][code] = json!({ "description": what });
    }
    o
}

/// The query parameters of a list (filters `f.<field>.<op>` aside, which the summary names).
fn list_parameters() -> Value {
    json!([
        { "name": "q", "in": "query", "schema": { "type": "string" }, "description": "quick search: names, phones, e-mail, pinyin initials" },
        { "name": "sort", "in": "query", "schema": { "type": "string" } },
        { "name": "order", "in": "query", "schema": { "type": "string", "enum": ["asc", "desc"] } },
        { "name": "cursor", "in": "query", "schema": { "type": "string" } },
        { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 500 } },
        { "name": "match", "in": "query", "schema": { "type": "string", "enum": ["all", "any"] }, "description": "join the f.<field>.<op> conditions with AND (all) or OR (any)" },
        { "name": "count", "in": "query", "schema": { "type": "boolean" }, "description": "true: the first page also answers `count` (matches up to 1,000) and `count_more` (more than that)" }
    ])
}

/// The related lists of a module (`GET .../{id}/related/{other}`): a page of the other module's
/// records that point at this one, listed with the same parameters as the other module's list.
fn related_path(def: &ModuleDef, id: &Value) -> Option<Value> {
    let others: Vec<&str> = def
        .related
        .iter()
        .filter_map(|r| def_of(r.module))
        .map(|d| d.code)
        .collect();
    if others.is_empty() {
        return None;
    }
    let pages: Vec<Value> = others
        .iter()
        .map(|o| json!({ "$ref": format!("#/components/schemas/Record_{o}_page") }))
        .collect();
    let mut get = op(
        def.code,
        "Related list: the other module's records that point at this one (same filters, sort and cursor as its list)",
        None,
        (200, None),
    );
    get["responses"]["200"]["content"] =
        json!({ "application/json": { "schema": { "oneOf": pages } } });
    get["parameters"] = list_parameters();
    let mut p = json!({ "get": get });
    p["parameters"] = json!([
        id[0],
        { "name": "other", "in": "path", "required": true, "schema": { "type": "string", "enum": others } }
    ]);
    Some(p)
}

/// `/{id}/collaborators` (协作人) of a module that has them: list, and replace at a version.
fn collaborators_path(tag: &str, id: &Value, record: &str) -> Value {
    let person = json!({ "type": "object", "properties": {
        "user_id": { "type": "integer" }, "display_name": { "type": "string" },
        "added_at": { "type": "string", "format": "date-time" } } });
    let mut get = op(
        tag,
        "Collaborators: users besides the owner who see and edit the record",
        None,
        (200, None),
    );
    get["responses"]["200"]["content"] =
        json!({ "application/json": { "schema": { "type": "array", "items": person } } });
    let mut put = op(
        tag,
        "Replace the collaborators: {\"version\", \"user_ids\"}",
        None,
        (200, None),
    );
    put["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": {
        "type": "object", "required": ["version", "user_ids"], "properties": {
            "version": { "type": "integer" },
            "user_ids": { "type": "array", "items": { "type": "integer" } } } } } } });
    put["responses"]["200"]["content"] = json!({ "application/json": { "schema": {
        "type": "object", "properties": { "record": { "$ref": record },
        "collaborators": { "type": "array", "items": person } } } } });
    let mut p = json!({ "get": get, "put": put });
    p["parameters"] = id.clone();
    p
}

/// Adds every engine module's paths and schemas to the document.
pub async fn extend(state: &AppState, doc: &mut Value) {
    for def in MODULES {
        let fs = match guanxi_store::custom_fields::fields(&state.db, def).await {
            Ok(f) => f,
            Err(_) => continue,
        };
        let name = format!("Record_{}", def.code);
        let r = format!("#/components/schemas/{name}");
        let page = format!("#/components/schemas/{name}_page");
        doc["components"]["schemas"][&name] = record_schema(&fs);
        doc["components"]["schemas"][format!("{name}_page")] = json!({ "type": "object", "properties": { "items": { "type": "array", "items": { "$ref": r } }, "next_cursor": { "type": ["string", "null"] }, "count": { "type": "integer", "description": "with count=true" }, "count_more": { "type": "boolean", "description": "with count=true: more than `count` match" } } });
        let tag = def.code;
        let base = format!("/api/v1/{}", def.code);
        let mut list = op(
            tag,
            "List (filters f.<field>.<op>, q, sort, order, cursor, limit)",
            None,
            (200, Some(page.clone())),
        );
        list["parameters"] = list_parameters();
        doc["paths"][&base] =
            json!({ "get": list, "post": op(tag, "Create", Some(&r), (201, Some(r.clone()))) });
        let id = json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }]);
        let mut item = json!({
            "get": op(tag, "Read", None, (200, Some(r.clone()))),
            "patch": op(tag, "Update: send `version` and the changed fields (absent = unchanged, null = cleared)", Some(&r), (200, Some(r.clone()))),
            "delete": op(tag, "Move to the recycle bin", None, (204, None)),
        });
        item["parameters"] = id.clone();
        doc["paths"][format!("{base}/{{id}}")] = item;
        for (suffix, summary) in [
            ("restore", "Restore from the recycle bin"),
            ("lock", "Lock (refuses edits until unlocked)"),
            ("unlock", "Unlock"),
            ("transfer", "Transfer to another owner: {\"owner_id\"}"),
        ] {
            let mut p = json!({ "post": op(tag, summary, None, (200, Some(r.clone()))) });
            p["parameters"] = id.clone();
            doc["paths"][format!("{base}/{{id}}/{suffix}")] = p;
        }
        let mut purge = op(
            tag,
            "Delete permanently (administrators): a record in the recycle bin, with its history and attachments; the audit log keeps an entry",
            None,
            (204, None),
        );
        purge["responses"]["403"] = json!({ "description": "not an administrator" });
        if let Some(r) = purge["responses"].as_object_mut() {
            r.remove("422");
        }
        purge["responses"]["409"] = json!({
            "description": "not in the recycle bin, or other records still point at it (the message names how many)"
        });
        let mut p = json!({ "delete": purge });
        p["parameters"] = id.clone();
        doc["paths"][format!("{base}/{{id}}/purge")] = p;
        let mut h = json!({ "get": op(tag, "Change history, newest first", None, (200, None)) });
        h["parameters"] = id.clone();
        doc["paths"][format!("{base}/{{id}}/history")] = h;
        let mut back = json!({ "post": op(tag, "Put back the value a field had before a history entry", None, (200, Some(r.clone()))) });
        back["parameters"] = json!([
            id[0],
            { "name": "entry", "in": "path", "required": true, "schema": { "type": "integer" }, "description": "the id of a field change in the record's history" }
        ]);
        doc["paths"][format!("{base}/{{id}}/history/{{entry}}/restore")] = back;
        if def.collaborators {
            doc["paths"][format!("{base}/{{id}}/collaborators")] = collaborators_path(tag, &id, &r);
        }
        if let Some(related) = related_path(def, &id) {
            doc["paths"][format!("{base}/{{id}}/related/{{other}}")] = related;
        }
        doc["paths"][format!("{base}/recycle-bin")] =
            json!({ "get": op(tag, "Deleted records", None, (200, Some(page))) });
    }
}
