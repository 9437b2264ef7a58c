//! Static assets, embedded in the binary: our own stylesheet and script, no CDN. Served with a
//! content-hash version in the URL and long-lived caching.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/app.js");
/// The import pages' script, loaded by those pages only.
const IMPORT_JS: &str = include_str!("../assets/import.js");
/// The rules page's condition builder and its styles, loaded by that page only.
const RULES_JS: &str = include_str!("../assets/rules.js");
const RULES_CSS: &str = include_str!("../assets/rules.css");

/// A short hash of the assets, appended as `?v=` so browsers may cache them for a year.
pub fn version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in CSS
            .bytes()
            .chain(JS.bytes())
            .chain(IMPORT_JS.bytes())
            .chain(RULES_JS.bytes())
            .chain(RULES_CSS.bytes())
        {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        format!("{:012x}", h & 0xffff_ffff_ffff)
    })
}

pub fn router() -> Router<AppState> {
    Router::new().route("/assets/{file}", get(asset))
}

async fn asset(Path(file): Path<String>) -> Response {
    let (body, ctype) = match file.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        "import.js" => (IMPORT_JS, "text/javascript; charset=utf-8"),
        "rules.js" => (RULES_JS, "text/javascript; charset=utf-8"),
        "rules.css" => (RULES_CSS, "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, ctype),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        body,
    )
        .into_response()
}
