//! One chunk of rows through the checks: conversion, names of related records, duplicates in
//! the file and against existing records. The dry run and the write share this path, so a row
//! the dry run passes is a row the write takes.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};

use guanxi_core::engine::{self, FieldKind};
use guanxi_core::validate::FieldError;
use guanxi_core::{Action, Module};
use guanxi_store::records::{self, Match};
use guanxi_store::{Db, Tx};
use serde_json::{Value, json};

use super::plan::{OnDuplicate, Plan, Prepared, Resolved, apply_names};
use crate::auth::Auth;
use crate::error::AppResult;
use crate::state::AppState;

/// What becomes of a row.
pub enum Outcome {
    Error(Prepared),
    Create(Prepared),
    Update(Prepared, Match),
    /// A duplicate left as it is.
    Skip,
}

/// Duplicate keys already seen in the file: hash of (key, value) → line. Hashes, not the values,
/// and 32-bit lines: earlier chunks' keys sit in two sorted vectors (12 bytes a key, 24 MB for
/// the two keys of a million customers, where a hash map took 68 MB and twice that while it
/// grew), the current chunk's in a small map until [`Seen::flush`] merges them in.
#[derive(Default)]
pub struct Seen {
    keys: Vec<u64>,
    lines: Vec<u32>,
    pending: HashMap<u64, u32, BuildHasherDefault<Prehashed>>,
    hasher: std::hash::RandomState,
}

impl Seen {
    fn key(&self, set: usize, text: &str) -> u64 {
        let mut h = self.hasher.build_hasher();
        set.hash(&mut h);
        text.hash(&mut h);
        h.finish()
    }

    /// The line that had this key first.
    fn get(&self, key: u64) -> Option<u32> {
        if let Some(line) = self.pending.get(&key) {
            return Some(*line);
        }
        self.keys.binary_search(&key).ok().map(|i| self.lines[i])
    }

    fn insert(&mut self, key: u64, line: u32) {
        self.pending.entry(key).or_insert(line);
    }

    /// Merges the current chunk's keys into the sorted vectors, in place from the back.
    fn flush(&mut self) {
        let mut new: Vec<(u64, u32)> = self.pending.drain().collect();
        new.sort_unstable();
        let (mut i, mut j) = (self.keys.len(), new.len());
        self.keys.resize(i + j, 0);
        self.lines.resize(i + j, 0);
        let mut w = i + j;
        while j > 0 {
            w -= 1;
            if i > 0 && self.keys[i - 1] > new[j - 1].0 {
                i -= 1;
                self.keys[w] = self.keys[i];
                self.lines[w] = self.lines[i];
            } else {
                j -= 1;
                (self.keys[w], self.lines[w]) = new[j];
            }
        }
    }
}

/// The keys of [`Seen`] are hashes already: its map takes them as they are.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Where a chunk's checks read: the database (the dry run), its readers beside the write's
/// open transaction (what was committed before it), or that transaction, which also sees the
/// records its earlier chunks created.
pub enum Reads<'a> {
    Db(&'a Db),
    Readers(&'a Db),
    Tx(&'a mut Tx),
}

impl Reads<'_> {
    async fn find(
        &mut self,
        fs: &engine::Fields,
        field: &engine::FieldDef,
        values: &[Value],
        up_to: Option<i64>,
    ) -> AppResult<HashMap<String, Match>> {
        Ok(match self {
            Reads::Db(db) => records::find_many(db, fs, field, values, up_to).await?,
            Reads::Readers(db) => records::read_find_many(db, fs, field, values, up_to).await?,
            Reads::Tx(tx) => records::tx_find_many(tx, fs, field, values, up_to).await?,
        })
    }
}

/// Resolves the names in relation columns (and contacts' organisations) to ids of records the
/// user may see; organisation names that do not exist yet are returned to be created.
async fn resolve(
    state: &AppState,
    auth: &Auth,
    rows: &[Prepared],
    reads: &mut Reads<'_>,
) -> AppResult<(Resolved, HashSet<String>)> {
    let mut wanted: HashMap<&'static str, (Module, HashSet<String>)> = HashMap::new();
    for p in rows {
        for (f, name) in &p.names {
            if let FieldKind::Relation(m) = f.kind {
                wanted
                    .entry(f.code)
                    .or_insert((m, HashSet::new()))
                    .1
                    .insert(name.clone());
            }
        }
        if let Some(o) = &p.organisation {
            wanted
                .entry("organisation_id")
                .or_insert((Module::Organisations, HashSet::new()))
                .1
                .insert(o.clone());
        }
    }
    let mut out = Resolved::new();
    let mut new_orgs = HashSet::new();
    for (code, (module, names)) in wanted {
        let Some(def) = engine::def_of(module) else {
            continue;
        };
        let fs = crate::services::records::fields(state, def).await?;
        let Some(title) = fs.field(def.title) else {
            continue;
        };
        let grant = auth.principal.authorize(module, Action::View).ok();
        let values: Vec<_> = names.iter().map(|n| json!(n)).collect();
        let found = reads.find(&fs, title, &values, None).await?;
        let mut map = HashMap::new();
        for (name, m) in found {
            if grant
                .as_ref()
                .is_some_and(|g| g.covers(m.owner_id, m.department_id))
            {
                map.insert(name.to_lowercase(), m.id);
            }
        }
        if code == "organisation_id" {
            new_orgs.extend(
                names
                    .into_iter()
                    .filter(|n| !map.contains_key(&n.to_lowercase())),
            );
        }
        out.insert(code, map);
    }
    Ok((out, new_orgs))
}

/// Checks a chunk. `new_orgs` collects organisation names to create (contacts).
#[expect(
    clippy::too_many_arguments,
    reason = "one chunk's whole context, passed down once"
)]
pub async fn check(
    state: &AppState,
    auth: &Auth,
    plan: &Plan,
    mut rows: Vec<Prepared>,
    seen: &mut Seen,
    new_orgs: &mut HashSet<String>,
    allow_create_duplicates: bool,
    mut reads: Reads<'_>,
) -> AppResult<Vec<Outcome>> {
    let (resolved, orgs) = resolve(state, auth, &rows, &mut reads).await?;
    let may_create_orgs = auth
        .principal
        .authorize(Module::Organisations, Action::Create)
        .is_ok();
    for p in &mut rows {
        apply_names(p, &resolved);
        if let Some(o) = &p.organisation {
            match resolved
                .get("organisation_id")
                .and_then(|m| m.get(&o.to_lowercase()))
            {
                Some(id) => {
                    p.values.insert("organisation_id".into(), json!(id));
                }
                None if may_create_orgs && orgs.contains(o) => {
                    new_orgs.insert(o.clone());
                }
                None => p.errors.push(FieldError::new(
                    super::plan::ORGANISATION_NAME,
                    "error-organisation-create",
                )),
            }
        }
    }
    // Existing records with the same keys, one query per key field for the whole chunk.
    let mut existing: HashMap<&'static str, HashMap<String, Match>> = HashMap::new();
    for set in plan.fs.def.duplicate_keys {
        for code in *set {
            let Some(f) = plan.fs.field(code) else {
                continue;
            };
            let values: Vec<_> = rows
                .iter()
                .filter(|p| p.errors.is_empty())
                .filter_map(|p| p.values.get(*code).filter(|v| !v.is_null()).cloned())
                .collect();
            if values.is_empty() {
                continue;
            }
            let found = reads
                .find(&plan.fs, f, &values, plan.existing_up_to)
                .await?;
            existing.insert(
                f.code,
                found
                    .into_iter()
                    .map(|(k, m)| (k.to_lowercase(), m))
                    .collect(),
            );
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    for mut p in rows {
        if !p.errors.is_empty() {
            out.push(Outcome::Error(p));
            continue;
        }
        let keys = plan.keys(&p);
        let mut in_file = None;
        let mut matched = None;
        for (set, f, text) in &keys {
            if let Some(line) = seen.get(seen.key(*set, text)) {
                in_file = Some((f.code, line));
                break;
            }
            if matched.is_none() {
                matched = existing.get(f.code).and_then(|m| m.get(text)).cloned();
            }
        }
        if let Some((field, line)) = in_file {
            p.errors.push(
                FieldError::new(field, "import-error-duplicate-in-file").with_arg("line", line),
            );
            out.push(Outcome::Error(p));
            continue;
        }
        for (set, _, text) in &keys {
            let k = seen.key(*set, text);
            seen.insert(k, u32::try_from(p.line).unwrap_or(u32::MAX));
        }
        let outcome = match (matched, plan.on_duplicate) {
            (None, _) => Outcome::Create(p),
            (Some(_), OnDuplicate::Skip) => Outcome::Skip,
            (Some(m), OnDuplicate::Update) => Outcome::Update(p, m),
            (Some(_), OnDuplicate::Create) if allow_create_duplicates => Outcome::Create(p),
            (Some(m), OnDuplicate::Create) => {
                p.errors.push(
                    FieldError::new(plan.fs.def.title, "import-error-duplicate-existing")
                        .with_arg("name", &m.title)
                        .with_arg("owner", m.owner_name.as_deref().unwrap_or("—")),
                );
                Outcome::Error(p)
            }
        };
        out.push(match outcome {
            Outcome::Create(mut p) => {
                plan.missing_required(&mut p);
                if p.errors.is_empty() {
                    Outcome::Create(p)
                } else {
                    Outcome::Error(p)
                }
            }
            Outcome::Update(mut p, m) => {
                let grant = auth.principal.authorize(plan.fs.def.module, Action::Edit);
                if !grant.is_ok_and(|g| g.covers(m.owner_id, m.department_id)) {
                    // 防撞单: someone else's customer is not touched, and the attempt is shown.
                    p.errors.push(
                        FieldError::new(plan.fs.def.title, "import-error-duplicate-existing")
                            .with_arg("name", &m.title)
                            .with_arg("owner", m.owner_name.as_deref().unwrap_or("—")),
                    );
                    Outcome::Error(p)
                } else if m.locked {
                    p.errors
                        .push(FieldError::new(plan.fs.def.title, "error-record-locked"));
                    Outcome::Error(p)
                } else {
                    Outcome::Update(p, m)
                }
            }
            other => other,
        });
    }
    seen.flush();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::Seen;

    #[test]
    fn seen_keeps_first_lines_across_flushes() {
        let mut seen = Seen::default();
        let keys: Vec<u64> = (0..3_000u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        for (n, chunk) in keys.chunks(700).enumerate() {
            for (i, k) in chunk.iter().enumerate() {
                assert_eq!(seen.get(*k), None);
                seen.insert(*k, (n * 700 + i) as u32);
                seen.insert(*k, 99_999);
                assert_eq!(seen.get(*k), Some((n * 700 + i) as u32));
            }
            seen.flush();
        }
        assert!(seen.keys.windows(2).all(|w| w[0] < w[1]));
        for (line, k) in keys.iter().enumerate() {
            assert_eq!(seen.get(*k), Some(line as u32));
        }
        assert_eq!(seen.get(12_345), None);
    }
}
