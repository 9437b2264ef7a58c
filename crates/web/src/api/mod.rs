//! The JSON REST API under `/api/v1/`, described by the OpenAPI document at
//! `/api/v1/openapi.json`, with an offline docs page at `/api/docs`.

mod account;
pub mod admin;
pub mod attachments;
mod auth;
mod collaborators;
mod custom_fields;
mod dictionary;
pub mod filters;
mod history;
pub mod imports;
pub mod notifications;
mod openapi_records;
pub mod pools;
pub mod records;
mod regions;
mod rules;

use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::error::AppError;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Guanxi CRM API", description = "Everything the Guanxi UI can do. Authenticate with `POST /api/v1/auth/login` or a personal API token, sent as `Authorization: Bearer <token>`. Errors are `{\"error\": {\"code\", \"message\", \"fields\"?}}` with the true HTTP status."),
    paths(
        auth::login, auth::logout, auth::me,
        account::update_me, account::change_password, account::list_tokens, account::create_token, account::revoke_token,
        admin::list_departments, admin::create_department, admin::update_department, admin::delete_department,
        admin::list_users, admin::get_user, admin::create_user, admin::update_user, admin::reset_password,
        admin::list_roles, admin::get_role, admin::create_role, admin::update_role, admin::delete_role,
        admin::audit_log, admin::get_settings, admin::put_settings, admin::modules,
        custom_fields::list, custom_fields::create, custom_fields::update,
        regions::list_regions, regions::get_region, regions::create_region, regions::rename_region, regions::delete_region,
        history::search, history::export,
        dictionary::list_lists, dictionary::list_items, dictionary::create_item, dictionary::reorder_items, dictionary::update_item, dictionary::delete_item,
        attachments::list, attachments::upload, attachments::download, attachments::delete,
        imports::list, imports::upload, imports::read, imports::set_mapping, imports::check, imports::start,
        imports::cancel, imports::revert, imports::errors, imports::fix_row, imports::error_file,
        imports::template, imports::targets, imports::export_list,
        rules::list, rules::create, rules::read, rules::update, rules::delete, rules::reorder, rules::fields, rules::explanation, rules::hand_back,
        notifications::list, notifications::unread_count, notifications::read, notifications::read_all, notifications::stream,
        pools::list, pools::create, pools::update, pools::customers, pools::customer, pools::claim, pools::assign,
        pools::release, pools::ownership, pools::score, pools::appointments,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "auth"), (name = "account"), (name = "organisation"), (name = "system"), (name = "notifications"), (name = "rules"), (name = "imports"), (name = "pools"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> Router<AppState> {
    // The docs page reads our own document, which adds the engine modules (with their custom
    // fields) to the static part per request.
    let docs: Router<AppState> = utoipa_swagger_ui::SwaggerUi::new("/api/docs")
        .config(utoipa_swagger_ui::Config::from("/api/v1/openapi.json"))
        .into();
    Router::new()
        .route("/api/v1/openapi.json", axum::routing::get(openapi_document))
        .merge(custom_fields::router())
        .merge(auth::router())
        .merge(account::router())
        .merge(admin::router())
        .merge(dictionary::router())
        .merge(regions::router())
        .merge(history::router())
        .merge(records::router())
        .merge(collaborators::router())
        .merge(attachments::router())
        .merge(pools::router())
        .merge(rules::router())
        .merge(notifications::router())
        .merge(docs)
}

async fn openapi_document(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::Json<serde_json::Value> {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    openapi_records::extend(&state, &mut doc).await;
    axum::Json(doc)
}

/// JSON body extractor whose rejections are our localized 400/422 errors.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(AppError::BadRequest("error-json-content-type"))
            }
            Err(e) => {
                tracing::debug!(error = %e, "bad JSON body");
                Err(AppError::BadRequest("error-json-body"))
            }
        }
    }
}

/// A numeric `{id}` path segment; anything else is a 404 in our error format.
pub struct Id(pub i64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Id {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| AppError::NotFound)?;
        raw.parse().map(Id).map_err(|_| AppError::NotFound)
    }
}
