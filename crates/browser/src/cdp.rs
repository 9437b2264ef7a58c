//! The DevTools wire protocol: numbered JSON commands over one WebSocket,
//! answered out of order and interleaved with events.

use std::io::ErrorKind;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

use crate::{Error, Result};

pub(crate) struct Connection {
    ws: WebSocket<TcpStream>,
    next_id: u64,
}

impl Connection {
    pub(crate) fn connect(url: &str, timeout: Duration) -> Result<Self> {
        let authority = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .ok_or_else(|| Error::Launch(format!("unexpected DevTools URL {url}")))?;
        let stream = TcpStream::connect(authority)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(timeout))?;
        let (ws, _response) = tungstenite::client::client(url, stream).map_err(|err| {
            Error::Connection(format!("WebSocket handshake with {url} failed: {err}"))
        })?;
        Ok(Connection { ws, next_id: 0 })
    }

    /// Sends a command without waiting; its answer is skipped by later reads.
    pub(crate) fn send(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<u64> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.ws
            .send(Message::text(message.to_string()))
            .map_err(|err| Error::Connection(format!("sending {method}: {err}")))?;
        Ok(id)
    }

    /// Sends a command and returns its `result`, skipping events and answers
    /// to earlier fire-and-forget commands.
    pub(crate) fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value> {
        let id = self.send(session, method, params)?;
        let deadline = Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(Error::Timeout {
                    what: format!("the browser to answer {method}"),
                    after: timeout,
                    context: String::new(),
                });
            }
            self.ws.get_mut().set_read_timeout(Some(remaining))?;
            let text = match self.ws.read() {
                Ok(Message::Text(text)) => text,
                Ok(_) => continue,
                // tungstenite keeps partial frames buffered, so a timed-out
                // read can simply be retried.
                Err(tungstenite::Error::Io(err))
                    if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    continue;
                }
                Err(err) => {
                    return Err(Error::Connection(format!(
                        "waiting for the answer to {method}: {err}"
                    )));
                }
            };
            let mut message: Value = serde_json::from_str(text.as_str()).map_err(|err| {
                Error::Connection(format!("undecodable DevTools message ({err}): {text}"))
            })?;
            if message["id"].as_u64() == Some(id) {
                if let Some(error) = message.get("error") {
                    let text = error["message"].as_str().unwrap_or("unknown error");
                    let data = error["data"].as_str().map(|d| format!(" ({d})"));
                    return Err(Error::Protocol {
                        method: method.to_string(),
                        message: format!("{text}{}", data.unwrap_or_default()),
                    });
                }
                return Ok(message["result"].take());
            }
            // An alert or confirm() would freeze the page (and every later
            // evaluate) until answered; tests want the "OK" path.
            if message["method"] == "Page.javascriptDialogOpening"
                && let Some(session) = message["sessionId"].as_str()
            {
                let session = session.to_string();
                self.send(
                    Some(&session),
                    "Page.handleJavaScriptDialog",
                    json!({ "accept": true }),
                )?;
            }
        }
    }
}
