//! In-app notifications (站内消息): writing one in the caller's transaction, rendering it in the
//! reader's language, reading and marking them, and the live feed behind the bell.
//!
//! A notification is stored as a kind with JSON arguments and renders through the message
//! `notification-<kind>`, so a module adds a kind by adding its two messages. Live delivery has
//! two paths: [`wake`] pushes on this instance's broadcast channel after a commit, and every open
//! feed also polls the database, which finds what another server instance wrote.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::Stream;
use guanxi_core::{I18n, Locale};
use guanxi_store::Tx;
use guanxi_store::notifications::{self as store, Notification};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// How often an open feed looks for notifications written by another instance.
const POLL: Duration = Duration::from_secs(2);
/// How often an open feed checks that its session (or token) still holds.
const SESSION_CHECK: Duration = Duration::from_secs(30);
/// The most notifications a feed sends in one go; the rest follow on the next round.
const BATCH: i64 = 50;

/// A notification as the reader sees it: its text in their language.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Shown {
    pub id: i64,
    pub kind: String,
    /// The message in the reader's language.
    pub text: String,
    /// Where the notification leads (a path inside Guanxi).
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// Adds a notification for `user_id` inside the caller's transaction. After the commit, call
/// [`wake`] so the user's open pages show it at once. `args` is a JSON object whose members
/// fill the message `notification-<kind>`; `link` must be a path inside Guanxi.
pub async fn notify(
    _state: &AppState,
    tx: &mut Tx,
    user_id: i64,
    kind: &str,
    args: Value,
    link: Option<&str>,
) -> AppResult<i64> {
    if let Some(l) = link
        && !is_local(l)
    {
        return Err(AppError::Internal(anyhow::anyhow!(
            "notification link {l:?} is not a local path"
        )));
    }
    Ok(store::add(tx, user_id, kind, &args, link).await?)
}

/// Tells this instance's open feeds of `user_id` to look for news (after a commit).
pub fn wake(state: &AppState, user_id: i64) {
    // An error only means nobody is listening.
    let _ = state.notifications.send(user_id);
}

/// Only same-site paths are followed: `/customers/1`, never `//evil.example` or `https://...`.
pub fn is_local(link: &str) -> bool {
    link.starts_with('/') && !link.starts_with("//") && !link.starts_with("/\\")
}

/// The text of a notification in `locale`.
pub fn render(n: &Notification, locale: Locale) -> String {
    let args: Vec<(&str, String)> = n
        .args
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k.as_str(), text)
                })
                .collect()
        })
        .unwrap_or_default();
    I18n::global().t_args(locale, &format!("notification-{}", n.kind), &args)
}

pub fn show(n: Notification, locale: Locale) -> Shown {
    Shown {
        text: render(&n, locale),
        id: n.id,
        kind: n.kind,
        link: n.link.filter(|l| is_local(l)),
        created_at: n.created_at,
        read_at: n.read_at,
    }
}

/// The caller's notifications, newest first, older than `before`.
pub async fn list(
    state: &AppState,
    auth: &Auth,
    before: Option<i64>,
    limit: i64,
) -> AppResult<Vec<Shown>> {
    let items = store::list(
        &state.db,
        auth.principal.user_id,
        before,
        limit.clamp(1, 100),
    )
    .await?;
    Ok(items.into_iter().map(|n| show(n, auth.locale)).collect())
}

pub async fn unread_count(state: &AppState, auth: &Auth) -> AppResult<i64> {
    Ok(store::unread_count(&state.db, auth.principal.user_id).await?)
}

/// Marks one of the caller's notifications read (again is fine); someone else's is not found.
/// Returns it, for its link.
pub async fn mark_read(state: &AppState, auth: &Auth, id: i64) -> AppResult<Shown> {
    let user = auth.principal.user_id;
    let n = store::get(&state.db, user, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if n.read_at.is_none() && store::mark_read(&state.db, user, Some(id)).await? > 0 {
        wake(state, user);
    }
    Ok(show(n, auth.locale))
}

/// Marks all the caller's notifications read; returns how many were unread.
pub async fn mark_all_read(state: &AppState, auth: &Auth) -> AppResult<u64> {
    let user = auth.principal.user_id;
    let n = store::mark_read(&state.db, user, None).await?;
    if n > 0 {
        wake(state, user);
    }
    Ok(n)
}

/// What a live feed sends.
#[derive(Debug)]
pub enum Live {
    /// The unread count (first on opening, then whenever it changes).
    Unread(i64),
    /// A notification that arrived after the feed opened.
    Notification(Shown),
}

/// The caller's live feed: the unread count at once, then new notifications and count changes
/// as they happen. It ends when the session that opened it ends.
pub async fn live(state: &AppState, auth: &Auth) -> AppResult<impl Stream<Item = Live> + use<>> {
    let user_id = auth.principal.user_id;
    // Subscribe before reading, so nothing written in between is missed.
    let wake = state.notifications.subscribe();
    let (latest, unread) = store::summary(&state.db, user_id).await?;
    let every = |d: Duration| {
        let mut i = tokio::time::interval_at(Instant::now() + d, d);
        i.set_missed_tick_behavior(MissedTickBehavior::Delay);
        i
    };
    let feed = Feed {
        state: state.clone(),
        user_id,
        locale: auth.locale,
        credential: auth.credential_digest.clone(),
        cursor: latest,
        unread,
        wake,
        poll: every(POLL),
        check: every(SESSION_CHECK),
        queue: VecDeque::from([Live::Unread(unread)]),
    };
    Ok(futures_util::stream::unfold(feed, |mut f| async move {
        f.next().await.map(|e| (e, f))
    }))
}

struct Feed {
    state: AppState,
    user_id: i64,
    locale: Locale,
    credential: String,
    /// The newest notification id sent (or known when the feed opened).
    cursor: i64,
    unread: i64,
    wake: tokio::sync::broadcast::Receiver<i64>,
    poll: Interval,
    check: Interval,
    queue: VecDeque<Live>,
}

impl Feed {
    async fn next(&mut self) -> Option<Live> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some(e);
            }
            tokio::select! {
                r = self.wake.recv() => match r {
                    Ok(user) if user != self.user_id => continue,
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return None,
                },
                _ = self.poll.tick() => {}
                _ = self.check.tick() => {
                    match store::listener_alive(&self.state.db, self.user_id, &self.credential).await {
                        Ok(true) => continue,
                        Ok(false) => return None,
                        Err(e) => {
                            tracing::warn!(error = %e, "checking a notification feed's session failed");
                            continue;
                        }
                    }
                }
            }
            if let Err(e) = self.refresh().await {
                tracing::warn!(error = %e, "reading notifications for a live feed failed");
            }
        }
    }

    /// Queues what changed since the last look.
    async fn refresh(&mut self) -> guanxi_store::Result<()> {
        let db = &self.state.db;
        let (latest, unread) = store::summary(db, self.user_id).await?;
        if latest > self.cursor {
            for n in store::after(db, self.user_id, self.cursor, BATCH).await? {
                self.cursor = n.id;
                self.queue
                    .push_back(Live::Notification(show(n, self.locale)));
            }
        }
        if unread != self.unread {
            self.unread = unread;
            self.queue.push_back(Live::Unread(unread));
        }
        Ok(())
    }
}
