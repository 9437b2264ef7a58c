//! Drives real headless chromium against a tiny HTTP server in this process.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use guanxi_browser::{Browser, Error, artifacts_dir, find_chromium};

const FORM_PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>Form</title>
<meta name="viewport" content="width=device-width"></head><body>
<form method="post" action="/submit">
  <input id="name" name="name" required>
  <select id="colour" name="colour">
    <option value="red">Red</option><option value="blue">Blue</option>
  </select>
  <button type="submit" id="send">Send</button>
</form>
<button id="later" onclick="setTimeout(() =>
  document.body.insertAdjacentHTML('beforeend', '<p id=late>late</p>'), 200)">later</button>
<button id="ask" onclick="document.title = confirm('Sure?') ? 'yes' : 'no'">ask</button>
</body></html>"#;

#[test]
fn fills_submits_and_screenshots_a_form() {
    if find_chromium().is_none() {
        if std::env::var_os("CI").is_some() {
            panic!(
                "chromium not found but CI is set: `apt-get install chromium` \
                 or point GUANXI_CHROMIUM at a binary"
            );
        }
        eprintln!("note: chromium not found, skipping the browser smoke test");
        return;
    }
    let started = Instant::now();
    let base = serve();
    let mut browser = Browser::launch().unwrap_or_else(|err| panic!("{err}"));
    let mut page = browser.new_page().expect("open a page");
    eprintln!("chromium ready after {:?}", started.elapsed());

    page.set_accept_language("de-CH").unwrap();
    page.goto(&base).unwrap();
    assert!(page.exists("#name"));
    assert!(!page.exists("#nope"));
    assert_eq!(page.url(), format!("{base}/"));

    assert_eq!(page.eval("1 + 2").unwrap(), 3);
    assert_eq!(page.eval("Promise.resolve('x')").unwrap(), "x");
    match page.eval("throw new Error('boom')") {
        Err(Error::Js(text)) => assert!(text.contains("boom"), "{text}"),
        other => panic!("expected a JS error, got {other:?}"),
    }
    assert!(matches!(page.text("#nope"), Err(Error::NoElement { .. })));

    page.click("#later").unwrap();
    page.wait_for_selector("#late").unwrap();
    assert_eq!(page.text("#late").unwrap(), "late");
    page.click("#ask").unwrap();
    assert_eq!(page.eval("document.title").unwrap(), "yes");

    let timeout = page
        .wait_for("document.title === 'never'", Duration::from_millis(200))
        .unwrap_err()
        .to_string();
    assert!(timeout.contains("document.title === 'never'"), "{timeout}");
    assert!(timeout.contains(&base), "{timeout}");

    // The empty required field must block submission with a clear error.
    let invalid = page.submit_and_wait("form").unwrap_err().to_string();
    assert!(invalid.contains("form is invalid: name"), "{invalid}");
    assert!(page.fill("#colour", "green").is_err());

    page.fill("#name", "Zhang Wěi & <co>").unwrap();
    page.fill("#colour", "blue").unwrap();
    page.click_and_wait_navigation("#send").unwrap();
    assert_eq!(
        page.text("#greeting").unwrap(),
        "Hello, Zhang Wěi & <co> (blue)"
    );
    assert_eq!(page.text("#lang").unwrap(), "de-CH");
    assert_eq!(page.url(), format!("{base}/submit"));

    page.goto(&base).unwrap();
    page.set_viewport(390, 844, true).unwrap();
    assert_eq!(page.eval("window.innerWidth").unwrap(), 390);
    page.set_viewport(1280, 900, false).unwrap();
    page.fill("#name", "Ada").unwrap();
    page.submit_and_wait("#name").unwrap();
    assert_eq!(page.text("#greeting").unwrap(), "Hello, Ada (red)");

    let shot = artifacts_dir().join("browser-smoke.png");
    page.screenshot(&shot).unwrap();
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG: {shot:?}");

    // Cookies: shared by default tabs, separate in an isolated page.
    page.goto(&format!("{base}/login")).unwrap();
    assert_eq!(page.text("#cookie").unwrap(), "user=ada");
    let mut other = browser.new_isolated_page().unwrap();
    other.goto(&format!("{base}/whoami")).unwrap();
    assert_eq!(other.text("#cookie").unwrap(), "");
    page.clear_cookies().unwrap();
    page.goto(&format!("{base}/whoami")).unwrap();
    assert_eq!(page.text("#cookie").unwrap(), "");

    drop((other, page, browser));
    eprintln!("smoke test done after {:?}", started.elapsed());
}

/// Serves the form on `/`, echoes a POST to `/submit`, and sets (`/login`)
/// or shows (`/whoami`) a cookie. Threads die with the test process.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // One thread per connection: chromium may open idle preconnects.
            thread::spawn(move || handle(stream));
        }
    });
    base
}

fn handle(stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let (mut length, mut language, mut cookie) = (0, String::new(), String::new());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim().to_string();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().unwrap_or(0),
                "accept-language" => language = value,
                "cookie" => cookie = value,
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let path = request_line.split(' ').nth(1).unwrap_or("/");
    let mut extra_header = "";
    let (status, html) = match (request_line.split(' ').next(), path) {
        (Some("GET"), "/") => ("200 OK", FORM_PAGE.to_string()),
        (Some("POST"), "/submit") => {
            let form = String::from_utf8_lossy(&body);
            let field = |key: &str| {
                form.split('&')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| url_decode(v))
                    .unwrap_or_default()
            };
            let greeting = format!("Hello, {} ({})", field("name"), field("colour"));
            let html = format!(
                "<!doctype html><meta charset=utf-8><p id=greeting>{}</p><p id=lang>{}</p>",
                escape(&greeting),
                escape(&language)
            );
            ("200 OK", html)
        }
        (Some("GET"), "/login" | "/whoami") => {
            if path == "/login" {
                extra_header = "Set-Cookie: user=ada; Path=/\r\n";
            }
            let shown = if path == "/login" {
                "user=ada"
            } else {
                &cookie
            };
            ("200 OK", format!("<p id=cookie>{}</p>", escape(shown)))
        }
        _ => ("404 Not Found", "not found".to_string()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n{extra_header}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{html}",
        html.len()
    );
    let _ = reader.get_mut().write_all(response.as_bytes());
}

fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
