use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::cdp::Connection;
use crate::{Error, Page, Result, find_chromium};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(15);

/// A headless chromium process and the DevTools connection to it.
///
/// Dropping the `Browser` and every [`Page`] made from it closes chromium and
/// deletes its throw-away profile.
pub struct Browser {
    shared: Shared,
}

/// Pages keep the process alive too, so a page never outlives its browser.
pub(crate) type Shared = Arc<Mutex<Inner>>;

pub(crate) struct Inner {
    pub(crate) conn: Connection,
    child: Child,
    // Dropped after `Drop::drop` has stopped chromium, so the directory is no
    // longer in use when it is removed.
    _profile: TempDir,
}

pub(crate) fn lock(shared: &Shared) -> MutexGuard<'_, Inner> {
    // A panic while holding the lock leaves the connection usable.
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Browser {
    /// Starts headless chromium (see [`find_chromium`]) with a fresh profile.
    pub fn launch() -> Result<Browser> {
        let binary = find_chromium().ok_or_else(|| {
            Error::Launch(
                "no chromium binary found (set GUANXI_CHROMIUM or `apt-get install chromium`)"
                    .into(),
            )
        })?;
        let profile = tempfile::Builder::new()
            .prefix("guanxi-chromium-")
            .tempdir()?;
        let mut child = Command::new(&binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
                "--remote-debugging-port=0",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| Error::Launch(format!("{}: {err}", binary.display())))?;
        let stderr = child.stderr.take().expect("stderr is piped");
        let url = match wait_for_devtools_url(stderr) {
            Ok(url) => url,
            Err(message) => {
                let _ = child.kill();
                let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                return Err(Error::Launch(format!(
                    "{} ({status}): {message}",
                    binary.display()
                )));
            }
        };
        let conn = match Connection::connect(&url, COMMAND_TIMEOUT) {
            Ok(conn) => conn,
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(err);
            }
        };
        let inner = Inner {
            conn,
            child,
            _profile: profile,
        };
        Ok(Browser {
            shared: Arc::new(Mutex::new(inner)),
        })
    }

    /// Opens a new tab sharing cookies with the browser's other default tabs.
    pub fn new_page(&mut self) -> Result<Page> {
        self.open_page(None)
    }

    /// Opens a tab in its own incognito-like context: separate cookies and
    /// storage, so two users can be logged in side by side.
    pub fn new_isolated_page(&mut self) -> Result<Page> {
        let context = self.call("Target.createBrowserContext", json!({}))?;
        let context = context["browserContextId"]
            .as_str()
            .ok_or_else(|| missing("Target.createBrowserContext", "browserContextId"))?;
        self.open_page(Some(context.to_string()))
    }

    fn open_page(&mut self, context: Option<String>) -> Result<Page> {
        let mut params = json!({ "url": "about:blank" });
        if let Some(context) = &context {
            params["browserContextId"] = json!(context);
        }
        let target = self.call("Target.createTarget", params)?;
        let target_id = target["targetId"]
            .as_str()
            .ok_or_else(|| missing("Target.createTarget", "targetId"))?
            .to_string();
        let attached = self.call(
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        )?;
        let session_id = attached["sessionId"]
            .as_str()
            .ok_or_else(|| missing("Target.attachToTarget", "sessionId"))?
            .to_string();
        Page::attach(self.shared.clone(), target_id, session_id, context)
    }

    fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        lock(&self.shared)
            .conn
            .call(None, method, params, COMMAND_TIMEOUT)
    }
}

fn missing(method: &str, field: &str) -> Error {
    Error::Protocol {
        method: method.to_string(),
        message: format!("answer has no {field}"),
    }
}

/// Reads chromium's stderr until it names its DevTools endpoint, then leaves
/// a thread draining the pipe so chromium never blocks on a full buffer.
fn wait_for_devtools_url(stderr: ChildStderr) -> std::result::Result<String, String> {
    let (lines_tx, lines_rx) = mpsc::channel();
    thread::Builder::new()
        .name("chromium-stderr".into())
        .spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut line = Vec::new();
            while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                // Fails once launch stopped listening; draining goes on.
                let _ = lines_tx.send(String::from_utf8_lossy(&line).trim_end().to_string());
                line.clear();
            }
        })
        .map_err(|err| format!("could not start the stderr reader: {err}"))?;

    let deadline = Instant::now() + STARTUP_TIMEOUT;
    let mut tail = VecDeque::new();
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match lines_rx.recv_timeout(remaining) {
            Ok(line) => {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    return Ok(url.trim().to_string());
                }
                if tail.len() == 20 {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
            Err(RecvTimeoutError::Timeout) => {
                return Err(format!(
                    "no `DevTools listening on` line within {}s; {}",
                    STARTUP_TIMEOUT.as_secs(),
                    stderr_tail(tail)
                ));
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(format!(
                    "exited before announcing DevTools; {}",
                    stderr_tail(tail)
                ));
            }
        }
    }
}

fn stderr_tail(tail: VecDeque<String>) -> String {
    if tail.is_empty() {
        return "it printed nothing on stderr".into();
    }
    format!("stderr ended with:\n{}", Vec::from(tail).join("\n"))
}

impl Drop for Inner {
    fn drop(&mut self) {
        // A clean Browser.close lets chromium stop and reap its helper
        // processes itself; SIGKILL is only the fallback.
        let _ = self.conn.send(None, "Browser.close", json!({}));
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) => thread::sleep(Duration::from_millis(20)),
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
