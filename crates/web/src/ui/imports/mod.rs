//! The import pages (导入): a module's import page (templates, the upload, the user's recent
//! imports) and one import's page ([`status`]: mapping, progress, results and the grid of failed
//! rows). The steps that change an import are plain forms handled here through the import
//! services, so the flow works without JavaScript; `assets/import.js` uploads with a progress
//! bar, follows a running import live and saves corrected rows in place through the JSON API.

mod status;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use guanxi_core::Action;
use guanxi_core::engine::ModuleDef;
use guanxi_store::imports::Import;

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::services::imports as svc;
use crate::services::records::module;
use crate::state::AppState;
use crate::ui::records::view::module_name;
use crate::ui::{Shell, Tr};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/{module}/import",
            get(page)
                .post(upload)
                .layer(DefaultBodyLimit::max(crate::middleware::MAX_BODY)),
        )
        .route("/imports/{id}", get(status::page))
        .route("/imports/{id}/mapping", post(status::mapping))
        .route("/imports/{id}/start", post(status::start))
        .route("/imports/{id}/cancel", post(status::cancel))
        .route("/imports/{id}/revert", post(status::revert))
        .route("/imports/{id}/rows/{line}", post(status::fix_row))
}

/// The steps of an import, shown on both pages: 1 upload, 2 mapping, 3 check, 4 import.
pub struct Step {
    pub label: String,
    /// `done`, `current` or empty.
    pub state: &'static str,
}

pub fn steps(tr: Tr, current: usize) -> Vec<Step> {
    [
        "import-ui-step-upload",
        "import-ui-step-mapping",
        "import-ui-step-check",
        "import-ui-step-import",
    ]
    .iter()
    .enumerate()
    .map(|(i, key)| Step {
        label: tr.t(key),
        state: match i.cmp(&current) {
            std::cmp::Ordering::Less => "done",
            std::cmp::Ordering::Equal => "current",
            std::cmp::Ordering::Greater => "",
        },
    })
    .collect()
}

/// An import in the list of recent ones.
pub struct Recent {
    pub id: i64,
    pub file_name: String,
    pub created: String,
    pub state: &'static str,
    pub state_label: String,
    pub created_rows: i64,
    pub updated_rows: i64,
    pub skipped_rows: i64,
    pub error_rows: i64,
}

/// The CSS tone of an import state's badge.
pub fn state_tone(state: &str) -> &'static str {
    match state {
        "done" => "ok",
        "failed" => "danger",
        "cancelled" | "reverted" => "muted",
        "validated" | "uploaded" => "",
        _ => "warn",
    }
}

pub fn state_label(tr: Tr, state: &str) -> String {
    tr.t(&format!("import-ui-state-{state}"))
}

#[derive(Template, WebTemplate)]
#[template(path = "import_module.html")]
pub struct ModulePage {
    shell: Shell,
    module: &'static str,
    steps: Vec<Step>,
    recent: Vec<Recent>,
    error: String,
}

async fn render(
    state: &AppState,
    auth: &Auth,
    def: &'static ModuleDef,
    error: String,
) -> AppResult<ModulePage> {
    svc::may_import(auth, def.code)?;
    let tr = Tr(auth.locale);
    let tz = &auth.principal.time_zone;
    let recent = svc::list(state, auth, def.code)
        .await?
        .into_iter()
        .take(20)
        .map(|i: Import| Recent {
            id: i.id,
            created: crate::ui::pages::local_time(&i.created_at, tz),
            state: state_tone(&i.state),
            state_label: state_label(tr, &i.state),
            file_name: i.file_name,
            created_rows: i.created_rows,
            updated_rows: i.updated_rows,
            skipped_rows: i.skipped_rows,
            error_rows: i.error_rows,
        })
        .collect();
    let name = module_name(def, auth.locale);
    let shell = Shell::new(state, auth, &format!("/{}", def.code), "import-ui-title")
        .await
        .crumb(&format!("/{}", def.code), &format!("module-{}", def.code))
        .title(tr.t1("import-ui-title-module", "module", &name));
    Ok(ModulePage {
        shell,
        module: def.code,
        steps: steps(tr, 0),
        recent,
        error,
    })
}

pub async fn page(
    State(state): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
) -> AppResult<ModulePage> {
    let def = module(&m)?;
    auth.principal.authorize(def.module, Action::Import)?;
    render(&state, &auth, def, String::new()).await
}

/// The upload without JavaScript (the script sends the file to the API instead, where larger
/// files are accepted): the same handler as the API's, then the import's page.
pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    Path(m): Path<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    let def = module(&m)?;
    let locale = auth.locale;
    let principal = auth.principal.clone();
    let actor = auth.actor.clone();
    let again = Auth {
        principal,
        actor,
        locale,
        credential_digest: auth.credential_digest.clone(),
        via_bearer: auth.via_bearer,
    };
    match crate::api::imports::upload(State(state.clone()), auth, Path(m), mp).await {
        Ok((_, json)) => {
            Ok(Redirect::to(&format!("/imports/{}", json.0.import.id)).into_response())
        }
        Err(e @ AppError::Validation(_)) => {
            let message = e
                .fields(locale)
                .into_iter()
                .map(|(_, m)| m)
                .next()
                .unwrap_or_else(|| e.message(locale));
            Ok(render(&state, &again, def, message).await?.into_response())
        }
        Err(e) => Err(e),
    }
}
