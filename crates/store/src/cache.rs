//! Reference data that nearly every request reads — who the caller is, a module's fields, the
//! settings, the dictionary, regions, users and departments, pools — kept in memory per database
//! instead of being read again for every page (a detail page asked for it about thirty times).
//!
//! Each kind of data is a [`Topic`]. The store functions that write a topic's tables invalidate
//! it at once, and again at every commit for a minute after ([`crate::Tx::commit`]: other
//! transactions may commit before the writer's own), and a value is
//! kept only if its topic was not forgotten while it was being read — so a reader that loaded
//! around the write and the commit does not keep what it saw. Entries also expire
//! after a while (seconds for people, half a minute for configuration): that bounds how long another server on the same PostgreSQL database
//! (which cannot tell this one about its writes) may serve what it changed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use crate::Db;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// Sessions, tokens, users, roles and departments: principals, user and department lists.
    People,
    /// Custom fields: a module's fields.
    Fields,
    Settings,
    Dictionary,
    Regions,
    Pools,
}

const ALL: [Topic; 6] = [
    Topic::People,
    Topic::Fields,
    Topic::Settings,
    Topic::Dictionary,
    Topic::Regions,
    Topic::Pools,
];

impl Topic {
    /// How long an entry lives without a write of this process invalidating it: a few seconds
    /// for who may do what (a disabled user or a changed role reaches every server quickly),
    /// half a minute for what administrators configure.
    fn ttl(self) -> Duration {
        match self {
            Topic::People => Duration::from_secs(3),
            _ => Duration::from_secs(30),
        }
    }
}
/// Entries one topic keeps before expired ones are swept out.
const SWEEP_AT: usize = 4_096;

type Entry = (Instant, Arc<dyn std::any::Any + Send + Sync>);

struct Store {
    maps: [Mutex<HashMap<String, Entry>>; 6],
    /// Bumped (under the map's lock) whenever a topic is forgotten: a value loaded while it
    /// changed may be older than the write and is not kept.
    generations: [AtomicU64; 6],
}

static STORE: LazyLock<Store> = LazyLock::new(|| Store {
    maps: Default::default(),
    generations: Default::default(),
});

/// When each topic was last written (milliseconds since [`EPOCH`]): every commit within
/// [`AFTER_WRITE`] of a write forgets the topic again. Transactions of other work commit in
/// between on PostgreSQL, so "the next commit" need not be the writer's own; clearing on every
/// commit for a while after a write covers the writer's commit whichever it is.
static WRITTEN: [AtomicU64; 6] = [const { AtomicU64::new(0) }; 6];
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);
/// How long after a write commits keep forgetting its topic (longer than any transaction that
/// writes reference data takes).
const AFTER_WRITE: Duration = Duration::from_secs(60);

fn millis() -> u64 {
    // Never 0, which means "never written".
    EPOCH.elapsed().as_millis() as u64 + 1
}

fn index(topic: Topic) -> usize {
    ALL.iter().position(|t| *t == topic).unwrap_or(0)
}

fn slot(topic: Topic) -> &'static Mutex<HashMap<String, Entry>> {
    &STORE.maps[index(topic)]
}

/// The topic's generation: take it before loading a value, give it to [`put`].
pub fn generation(topic: Topic) -> u64 {
    STORE.generations[index(topic)].load(Ordering::SeqCst)
}

/// The cache key of `key` on this database.
pub fn key(db: &Db, key: &str) -> String {
    format!("{}|{key}", crate::rules::identity(db))
}

/// A cached value, if there is a live one.
pub fn get<T: Clone + Send + Sync + 'static>(topic: Topic, key: &str) -> Option<T> {
    let map = slot(topic).lock().ok()?;
    let (at, v) = map.get(key)?;
    if at.elapsed() > topic.ttl() {
        return None;
    }
    v.downcast_ref::<T>().cloned()
}

/// Keeps a value loaded at `generation`, unless the topic was forgotten since.
pub fn put<T: Clone + Send + Sync + 'static>(topic: Topic, key: String, value: T, generation: u64) {
    if let Ok(mut map) = slot(topic).lock() {
        if STORE.generations[index(topic)].load(Ordering::SeqCst) != generation {
            return;
        }
        if map.len() >= SWEEP_AT {
            map.retain(|_, (at, _)| at.elapsed() <= topic.ttl());
        }
        map.insert(key, (Instant::now(), Arc::new(value)));
    }
}

/// A transaction wrote the topic's tables: forget it now, and again when the writer commits.
pub fn invalidate(topic: Topic) {
    WRITTEN[index(topic)].store(millis(), Ordering::SeqCst);
    clear(topic);
}

fn clear(topic: Topic) {
    if let Ok(mut map) = slot(topic).lock() {
        STORE.generations[index(topic)].fetch_add(1, Ordering::SeqCst);
        map.clear();
    }
}

/// Called after every commit: forgets the topics written lately (the commit may be the
/// writer's).
pub fn committed() {
    let now = millis();
    let window = AFTER_WRITE.as_millis() as u64;
    for t in ALL {
        let at = WRITTEN[index(t)].load(Ordering::SeqCst);
        if at != 0 && now.saturating_sub(at) <= window {
            clear(t);
        }
    }
}

/// Reads through the cache: the cached value when there is one, else `load`'s, kept.
pub async fn through<T, F>(db: &Db, topic: Topic, k: &str, load: F) -> crate::Result<T>
where
    T: Clone + Send + Sync + 'static,
    F: AsyncFnOnce() -> crate::Result<T>,
{
    let k = key(db, k);
    if let Some(v) = get::<T>(topic, &k) {
        return Ok(v);
    }
    let generation = generation(topic);
    let v = load().await?;
    put(topic, k, v.clone(), generation);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalidation_forgets_a_topic_only() {
        put(
            Topic::Regions,
            "a|x".into(),
            1_i64,
            generation(Topic::Regions),
        );
        put(Topic::Pools, "a|y".into(), 2_i64, generation(Topic::Pools));
        assert_eq!(get::<i64>(Topic::Regions, "a|x"), Some(1));
        assert_eq!(get::<String>(Topic::Regions, "a|x"), None, "another type");
        invalidate(Topic::Regions);
        assert_eq!(get::<i64>(Topic::Regions, "a|x"), None);
        assert_eq!(get::<i64>(Topic::Pools, "a|y"), Some(2));
        // A reader that reloaded before the commit is forgotten at the commit, whichever
        // transaction's commit comes first.
        put(
            Topic::Regions,
            "a|x".into(),
            3_i64,
            generation(Topic::Regions),
        );
        committed();
        assert_eq!(get::<i64>(Topic::Regions, "a|x"), None);
        // One that began loading before a write and finished after it is not kept.
        let before = generation(Topic::Regions);
        invalidate(Topic::Regions);
        committed();
        put(Topic::Regions, "a|x".into(), 4_i64, before);
        assert_eq!(get::<i64>(Topic::Regions, "a|x"), None);
    }
}
