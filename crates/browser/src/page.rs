use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::browser::{Shared, lock};
use crate::{Error, Result, decode_base64};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Set on the current document before a navigation; the next document starts
/// without it, which tells "new page loaded" apart from "old page still there".
const OLD_DOCUMENT_MARKER: &str = "window.__guanxiOldDocument";
const NEW_DOCUMENT_READY: &str =
    "!window.__guanxiOldDocument && document.readyState === 'complete'";

const TEXT_JS: &str = "el => el.innerText";
const CLICK_JS: &str = "el => { el.scrollIntoView({ block: 'center' }); el.click(); }";
const FILL_JS: &str = r#"(el, value) => {
    el.scrollIntoView({ block: 'center' });
    el.focus();
    el.value = value;
    if (el instanceof HTMLSelectElement && el.value !== value) {
        throw new Error(`no <option> with value ${JSON.stringify(value)}`);
    }
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
}"#;
// Checking validity first turns a silently blocked submit (and a confusing
// navigation timeout) into an error naming the offending fields.
const SUBMIT_JS: &str = r#"el => {
    const form = el instanceof HTMLFormElement ? el : el.closest('form');
    if (!form) throw new Error('element is not in a <form>');
    if (!form.noValidate && !form.checkValidity()) {
        const bad = [...form.elements].filter(e => e.validity && !e.validity.valid);
        throw new Error('form is invalid: ' +
            bad.map(e => `${e.name || e.id}: ${e.validationMessage}`).join('; '));
    }
    form.requestSubmit();
}"#;

/// One browser tab, driven through its own DevTools session.
pub struct Page {
    shared: Shared,
    session_id: String,
    target_id: String,
    context_id: Option<String>,
    timeout: Duration,
}

impl Page {
    pub(crate) fn attach(
        shared: Shared,
        target_id: String,
        session_id: String,
        context_id: Option<String>,
    ) -> Result<Page> {
        let mut page = Page {
            shared,
            session_id,
            target_id,
            context_id,
            timeout: DEFAULT_TIMEOUT,
        };
        page.call("Page.enable", json!({}))?;
        page.call("Runtime.enable", json!({}))?;
        Ok(page)
    }

    /// Limit for navigations, waits without an explicit timeout, and single
    /// commands (default 10 s).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Navigates and returns once the new document has fully loaded.
    pub fn goto(&mut self, url: &str) -> Result<()> {
        self.mark_old_document()?;
        let answer = self.call("Page.navigate", json!({ "url": url }))?;
        if let Some(reason) = answer["errorText"].as_str().filter(|e| !e.is_empty()) {
            return Err(Error::Navigation {
                url: url.to_string(),
                reason: reason.to_string(),
            });
        }
        // Without a loaderId the navigation stayed in the same document
        // (e.g. a #fragment), so the marker never goes away.
        let condition = if answer["loaderId"].is_null() {
            "document.readyState === 'complete'"
        } else {
            NEW_DOCUMENT_READY
        };
        self.poll(&format!("{url} to load"), condition, self.timeout)
    }

    /// Signs in through Guanxi's login form at `base` (the server's root URL) and returns once
    /// the page it leads to has loaded.
    pub fn sign_in(&mut self, base: &str, user: &str, password: &str) -> Result<()> {
        self.goto(&format!("{base}/login"))?;
        self.fill("input[name=username]", user)?;
        self.fill("input[name=password]", password)?;
        self.submit_and_wait("#login-form")
    }

    /// Evaluates `js` in the page (awaiting promises) and returns its value as
    /// JSON; `undefined` and DOM nodes come back as `null` / `{}`.
    pub fn eval(&mut self, js: &str) -> Result<Value> {
        self.eval_within(js, self.timeout)
    }

    /// Polls the JavaScript expression every 50 ms until it is truthy.
    pub fn wait_for(&mut self, js_condition: &str, timeout: Duration) -> Result<()> {
        self.poll(&format!("`{js_condition}`"), js_condition, timeout)
    }

    pub fn wait_for_selector(&mut self, css: &str) -> Result<()> {
        let condition = format!("document.querySelector({}) !== null", js_string(css));
        self.poll(
            &format!("an element matching `{css}`"),
            &condition,
            self.timeout,
        )
    }

    /// `innerText` of the first element matching `css`.
    pub fn text(&mut self, css: &str) -> Result<String> {
        let text = self.on_element(css, TEXT_JS, &[])?;
        Ok(text.as_str().unwrap_or_default().to_string())
    }

    /// Whether an element matches `css` right now (false if the page cannot
    /// be asked).
    pub fn exists(&mut self, css: &str) -> bool {
        let js = format!("document.querySelector({}) !== null", js_string(css));
        self.eval(&js).is_ok_and(|found| found == json!(true))
    }

    /// The current URL, or a description of why it is unknown; never fails
    /// so it can go straight into assertion messages.
    pub fn url(&mut self) -> String {
        match self.eval_within("location.href", Duration::from_secs(2)) {
            Ok(Value::String(url)) => url,
            Ok(other) => format!("<unknown URL: {other}>"),
            Err(err) => format!("<unknown URL: {err}>"),
        }
    }

    /// Focuses the input, textarea or select, sets its value and fires
    /// `input` and `change` like a user edit would.
    pub fn fill(&mut self, css: &str, value: &str) -> Result<()> {
        self.on_element(css, FILL_JS, &[json!(value)]).map(drop)
    }

    /// Puts files into the `<input type=file>` matching `css`, as if the user had picked them
    /// (the browser fires `input` and `change`); the paths must be absolute.
    pub fn set_input_files(&mut self, css: &str, files: &[&Path]) -> Result<()> {
        let js = format!("document.querySelector({})", js_string(css));
        let params = json!({ "expression": js, "returnByValue": false });
        let answer = self.call("Runtime.evaluate", params)?;
        let Some(object_id) = answer["result"]["objectId"].as_str().map(str::to_string) else {
            return Err(Error::NoElement {
                selector: css.to_string(),
                url: self.url(),
            });
        };
        let files: Vec<String> = files
            .iter()
            .map(|f| f.to_string_lossy().into_owned())
            .collect();
        let set = json!({ "files": files, "objectId": object_id });
        let result = self.call("DOM.setFileInputFiles", set).map(drop);
        let _ = self.call("Runtime.releaseObject", json!({ "objectId": object_id }));
        result
    }

    pub fn click(&mut self, css: &str) -> Result<()> {
        self.on_element(css, CLICK_JS, &[]).map(drop)
    }

    /// Clicks and waits until a new document has replaced the current one.
    pub fn click_and_wait_navigation(&mut self, css: &str) -> Result<()> {
        self.mark_old_document()?;
        self.click(css)?;
        let what = format!("a new page after clicking `{css}`");
        self.poll(&what, NEW_DOCUMENT_READY, self.timeout)
    }

    /// Submits the form matching `form_css` (or the form around the matched
    /// element) as if by its submit button, and waits for the next page.
    pub fn submit_and_wait(&mut self, form_css: &str) -> Result<()> {
        self.mark_old_document()?;
        self.on_element(form_css, SUBMIT_JS, &[])?;
        let what = format!("a new page after submitting `{form_css}`");
        self.poll(&what, NEW_DOCUMENT_READY, self.timeout)
    }

    /// Saves a PNG of the viewport, creating parent directories.
    pub fn screenshot(&mut self, path: &Path) -> Result<()> {
        let method = "Page.captureScreenshot";
        let shot = self.call(method, json!({ "format": "png" }))?;
        let png = shot["data"]
            .as_str()
            .and_then(decode_base64)
            .ok_or_else(|| Error::Protocol {
                method: method.to_string(),
                message: "answer has no valid base64 `data`".into(),
            })?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png)?;
        Ok(())
    }

    pub fn set_viewport(&mut self, width: u32, height: u32, mobile: bool) -> Result<()> {
        let params = json!({
            "width": width,
            "height": height,
            "deviceScaleFactor": 1,
            "mobile": mobile,
        });
        self.call("Emulation.setDeviceMetricsOverride", params)
            .map(drop)
    }

    /// Sends `Accept-Language: <value>` with every later request of this tab,
    /// for testing the server's language negotiation.
    pub fn set_accept_language(&mut self, value: &str) -> Result<()> {
        self.call("Network.enable", json!({}))?;
        let headers = json!({ "headers": { "Accept-Language": value } });
        self.call("Network.setExtraHTTPHeaders", headers).map(drop)
    }

    /// Deletes all cookies of this tab's browser context (e.g. to log out).
    pub fn clear_cookies(&mut self) -> Result<()> {
        self.call("Network.clearBrowserCookies", json!({}))
            .map(drop)
    }

    fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        let timeout = self.timeout;
        lock(&self.shared)
            .conn
            .call(Some(&self.session_id), method, params, timeout)
    }

    fn eval_within(&mut self, js: &str, timeout: Duration) -> Result<Value> {
        let params = json!({
            "expression": js,
            "returnByValue": true,
            "awaitPromise": true,
        });
        let mut answer = lock(&self.shared).conn.call(
            Some(&self.session_id),
            "Runtime.evaluate",
            params,
            timeout,
        )?;
        if let Some(details) = answer.get("exceptionDetails") {
            let exception = &details["exception"];
            let text = exception["description"]
                .as_str()
                .map(str::to_string)
                .or_else(|| exception.get("value").map(Value::to_string))
                .or_else(|| details["text"].as_str().map(str::to_string))
                .unwrap_or_else(|| "unknown exception".into());
            return Err(Error::Js(text));
        }
        let result = &mut answer["result"];
        // NaN, Infinity, -0 and BigInts have no JSON form.
        if let Some(special) = result.get("unserializableValue") {
            return Ok(special.clone());
        }
        Ok(result["value"].take())
    }

    /// Runs `function(element, ...args)` on the first match of `css`.
    fn on_element(&mut self, css: &str, function: &str, args: &[Value]) -> Result<Value> {
        let args: String = args.iter().map(|a| format!(", {a}")).collect();
        let js = format!(
            "(() => {{ const el = document.querySelector({}); \
             return el ? {{ value: ({function})(el{args}) }} : null; }})()",
            js_string(css)
        );
        let mut answer = self.eval(&js)?;
        if answer.is_null() {
            return Err(Error::NoElement {
                selector: css.to_string(),
                url: self.url(),
            });
        }
        Ok(answer["value"].take())
    }

    fn mark_old_document(&mut self) -> Result<()> {
        self.eval(&format!("{OLD_DOCUMENT_MARKER} = true"))
            .map(drop)
    }

    fn poll(&mut self, what: &str, condition: &str, timeout: Duration) -> Result<()> {
        // The newlines keep a trailing `// comment` in the condition harmless.
        let js = format!("Promise.resolve((\n{condition}\n)).then(Boolean)");
        let start = Instant::now();
        loop {
            let remaining = timeout.saturating_sub(start.elapsed());
            // Errors are expected mid-navigation (the old context is gone,
            // the new one not there yet), so they only count as "not yet".
            let last_error = match self.eval_within(&js, remaining.max(Duration::from_millis(1))) {
                Ok(Value::Bool(true)) => return Ok(()),
                Ok(_) => None,
                Err(err) => Some(err),
            };
            if start.elapsed() + POLL_INTERVAL > timeout {
                let last = last_error.map(|e| format!("; last error: {e}"));
                return Err(Error::Timeout {
                    what: what.to_string(),
                    after: timeout,
                    context: format!(" (page at {}{})", self.url(), last.unwrap_or_default()),
                });
            }
            thread::sleep(POLL_INTERVAL);
        }
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        // Fire and forget: the answers are skipped by whichever call comes next.
        let conn = &mut lock(&self.shared).conn;
        let _ = match &self.context_id {
            Some(context) => conn.send(
                None,
                "Target.disposeBrowserContext",
                json!({ "browserContextId": context }),
            ),
            None => conn.send(
                None,
                "Target.closeTarget",
                json!({ "targetId": self.target_id }),
            ),
        };
    }
}

/// A JavaScript string literal for `s` (JSON strings are valid JS).
fn js_string(s: &str) -> String {
    Value::from(s).to_string()
}
