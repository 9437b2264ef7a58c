//! A small, synchronous Chrome DevTools Protocol client for Guanxi's browser
//! tests. It drives Debian's headless `chromium` over a plain `ws://` socket and
//! offers just what end-to-end tests need: navigate, fill, click, wait, read
//! text, take screenshots.
//!
//! ```no_run
//! let mut browser = guanxi_browser::Browser::launch()?;
//! let mut page = browser.new_page()?;
//! page.goto("http://127.0.0.1:8080/login")?;
//! page.fill("input[name=email]", "ada@example.com")?;
//! page.submit_and_wait("form")?;
//! assert_eq!(page.text("h1")?, "Dashboard");
//! # Ok::<(), guanxi_browser::Error>(())
//! ```

mod browser;
mod cdp;
mod page;

pub use browser::Browser;
pub use page::Page;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug)]
pub enum Error {
    /// Chromium was not found, did not start, or never announced its DevTools endpoint.
    Launch(String),
    /// The DevTools connection broke, usually because the browser died.
    Connection(String),
    /// The browser rejected a command.
    Protocol {
        method: String,
        message: String,
    },
    /// Page JavaScript threw or a promise was rejected.
    Js(String),
    /// No element matched a CSS selector.
    NoElement {
        selector: String,
        url: String,
    },
    /// The navigation itself failed (connection refused, bad URL, ...).
    Navigation {
        url: String,
        reason: String,
    },
    /// Something did not happen in time; `context` says where the page was.
    Timeout {
        what: String,
        after: Duration,
        context: String,
    },
    Io(std::io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Launch(msg) => write!(f, "could not launch chromium: {msg}"),
            Error::Connection(msg) => write!(f, "DevTools connection failed: {msg}"),
            Error::Protocol { method, message } => {
                write!(f, "DevTools command {method} failed: {message}")
            }
            Error::Js(msg) => write!(f, "JavaScript exception: {msg}"),
            Error::NoElement { selector, url } => {
                write!(f, "no element matches `{selector}` on {url}")
            }
            Error::Navigation { url, reason } => write!(f, "navigation to {url} failed: {reason}"),
            Error::Timeout {
                what,
                after,
                context,
            } => write!(
                f,
                "timed out after {:.1}s waiting for {what}{context}",
                after.as_secs_f64()
            ),
            Error::Io(err) => write!(f, "I/O error: {err}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(err) => Some(err),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::Io(err)
    }
}

/// Locates a chromium binary: `$GUANXI_CHROMIUM` if set (and nothing else then,
/// so a wrong override fails loudly instead of silently testing another
/// browser), else the Debian paths, else `$PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("GUANXI_CHROMIUM").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return is_executable(&path).then_some(path);
    }
    let names = ["chromium", "chromium-browser"];
    let debian = names.iter().map(|n| Path::new("/usr/bin").join(n));
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let from_path = on_path
        .iter()
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)));
    debian.chain(from_path).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Directory for screenshots and other test output, created if missing:
/// `$GUANXI_TEST_ARTIFACTS`, else `test-artifacts/` in the workspace root
/// (the nearest ancestor of the current directory holding a `Cargo.lock`,
/// because `cargo test` runs each crate's tests from the crate's directory).
pub fn artifacts_dir() -> PathBuf {
    let dir = match std::env::var_os("GUANXI_TEST_ARTIFACTS").filter(|p| !p.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            let root = cwd
                .ancestors()
                .find(|d| d.join("Cargo.lock").is_file())
                .unwrap_or(&cwd);
            root.join("test-artifacts")
        }
    };
    // A failure here resurfaces, with the path, when the caller writes a file.
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Standard base64 with optional padding; screenshots are the only user, so
/// this saves a dependency.
fn decode_base64(input: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for byte in input.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b'\r' | b'\n' | b' ' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_known_vectors() {
        let cases = [
            ("", ""),
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg==", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9vYmFy", "foobar"),
        ];
        for (encoded, plain) in cases {
            assert_eq!(decode_base64(encoded).unwrap(), plain.as_bytes());
        }
        assert_eq!(decode_base64("/+8A").unwrap(), [0xff, 0xef, 0x00]);
        assert!(decode_base64("Zm9v!").is_none());
    }

    #[test]
    fn errors_read_well() {
        let err = Error::Timeout {
            what: "`document.title == 'x'`".into(),
            after: Duration::from_millis(1500),
            context: " (page at about:blank)".into(),
        };
        assert_eq!(
            err.to_string(),
            "timed out after 1.5s waiting for `document.title == 'x'` (page at about:blank)"
        );
    }
}
