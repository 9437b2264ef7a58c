//! Users: create, edit, enable/disable, reset password, assign roles — within the data scope of
//! the caller's Users grant.

use guanxi_core::validate::{self, Checker, FieldError};
use guanxi_core::{Action, Grant, Module};
use guanxi_store::audit::{self, Event};
use guanxi_store::users::{self, NewUser, User, UserFilter, UserUpdate};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::unique_as;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// A user's fields. On update (PATCH) an absent field keeps its value; an empty string clears
/// an optional text; `department_id: null` removes the department.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct UserInput {
    /// Only when creating; user names cannot change.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub department_id: Option<Option<i64>>,
    /// Only when creating; empty means a random password is generated and returned once.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Role ids; changing them needs the `assign` permission on users.
    #[serde(default)]
    pub role_ids: Option<Vec<i64>>,
}

/// Tells a field sent as `null` (Some(None)) from one left out (None).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserDetail {
    #[serde(flatten)]
    pub user: User,
    pub role_ids: Vec<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    #[serde(flatten)]
    pub user: UserDetail,
    /// The generated password, when none was given. Shown once.
    pub initial_password: Option<String>,
}

pub async fn list(state: &AppState, auth: &Auth, filter: &UserFilter) -> AppResult<Vec<User>> {
    let grant = auth.principal.authorize(Module::Users, Action::View)?;
    Ok(users::list(&state.db, &grant, filter).await?)
}

pub async fn get(state: &AppState, auth: &Auth, id: i64) -> AppResult<UserDetail> {
    let grant = auth.principal.authorize(Module::Users, Action::View)?;
    let user = users::get(&state.db, &grant, id).await?;
    let role_ids = users::role_ids(&state.db, id).await?;
    Ok(UserDetail { user, role_ids })
}

/// A department the caller may put users into: inside their Users scope.
fn check_department(grant: &Grant, department_id: Option<i64>) -> Result<(), FieldError> {
    if grant.covers(None, department_id) {
        Ok(())
    } else {
        Err(FieldError::new(
            "department_id",
            "error-department-out-of-scope",
        ))
    }
}

async fn check_roles(state: &AppState, auth: &Auth, role_ids: &[i64]) -> AppResult<()> {
    auth.principal.authorize(Module::Users, Action::Assign)?;
    let known: Vec<i64> = guanxi_store::roles::list(&state.db)
        .await?
        .iter()
        .map(|r| r.id)
        .collect();
    if role_ids.iter().any(|r| !known.contains(r)) {
        return Err(FieldError::new("role_ids", "error-role-missing").into());
    }
    Ok(())
}

struct Checked {
    display_name: String,
    mobile: Option<String>,
    email: Option<String>,
    locale: String,
    time_zone: String,
}

/// Values before the change (or defaults on create), for fields a PATCH leaves out.
struct Current<'a> {
    display_name: &'a str,
    mobile: &'a str,
    email: &'a str,
    locale: &'a str,
    time_zone: &'a str,
}

fn check_common(input: &UserInput, c: &mut Checker, cur: &Current<'_>) -> Option<Checked> {
    let pick = |v: &Option<String>, d: &str| v.clone().unwrap_or_else(|| d.to_owned());
    let display_name = c.check(validate::required_text(
        "display_name",
        &pick(&input.display_name, cur.display_name),
        50,
    ));
    let mobile = c.check(validate::mobile("mobile", &pick(&input.mobile, cur.mobile)));
    let email = c.check(validate::email("email", &pick(&input.email, cur.email)));
    let locale = c.check(validate::locale("locale", &pick(&input.locale, cur.locale)));
    let time_zone = c.check(validate::time_zone(
        "time_zone",
        &pick(&input.time_zone, cur.time_zone),
    ));
    Some(Checked {
        display_name: display_name?,
        mobile: mobile?,
        email: email?,
        locale: locale?.code().to_owned(),
        time_zone: time_zone?,
    })
}

pub async fn create(state: &AppState, auth: &Auth, input: &UserInput) -> AppResult<CreatedUser> {
    let grant = auth.principal.authorize(Module::Users, Action::Create)?;
    let mut c = Checker::default();
    let username = c.check(validate::username(input.username.as_deref().unwrap_or("")));
    let given = input.password.clone().unwrap_or_default();
    let generated = given
        .is_empty()
        .then(guanxi_core::security::random_password);
    let password = c.check(validate::password(
        "password",
        generated.as_deref().unwrap_or(&given),
    ));
    let department_id = input.department_id.flatten();
    c.check(check_department(&grant, department_id));
    let settings = guanxi_store::settings::load(&state.db).await?;
    let cur = Current {
        display_name: "",
        mobile: "",
        email: "",
        locale: &settings.default_locale,
        time_zone: &settings.default_time_zone,
    };
    let common = check_common(input, &mut c, &cur);
    c.finish()?;
    let (Some(username), Some(password), Some(common)) = (username, password, common) else {
        return Err(AppError::BadRequest("error-validation"));
    };
    if let Some(d) = department_id {
        guanxi_store::departments::get(&state.db, d)
            .await
            .map_err(|_| FieldError::new("department_id", "error-department-missing"))?;
    }
    if let Some(r) = input.role_ids.as_ref().filter(|r| !r.is_empty()) {
        check_roles(state, auth, r).await?;
    }
    let hash = guanxi_core::security::hash_password(&password);
    let mut tx = state.db.begin().await?;
    let id = users::insert(
        &mut tx,
        &grant,
        &NewUser {
            username: &username,
            display_name: &common.display_name,
            mobile: common.mobile.as_deref(),
            email: common.email.as_deref(),
            department_id,
            password_hash: &hash,
            locale: &common.locale,
            time_zone: &common.time_zone,
        },
    )
    .await
    .map_err(unique_as("username", "error-username-taken"))?;
    let role_ids = input.role_ids.clone().unwrap_or_default();
    users::set_roles(&mut tx, id, &role_ids).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new("user.create", format!("created user {username}"))
            .module(Module::Users)
            .target(id, &username)
            .details(json!({ "department_id": department_id, "role_ids": role_ids })),
    )
    .await?;
    tx.commit().await?;
    let user = get(state, auth, id).await?;
    Ok(CreatedUser {
        user,
        initial_password: generated,
    })
}

pub async fn update(
    state: &AppState,
    auth: &Auth,
    id: i64,
    input: &UserInput,
) -> AppResult<UserDetail> {
    let grant = auth.principal.authorize(Module::Users, Action::Edit)?;
    let before = users::get(&state.db, &grant, id).await?;
    let mut c = Checker::default();
    let department_id = input.department_id.unwrap_or(before.department_id);
    if department_id != before.department_id {
        c.check(check_department(&grant, department_id));
    }
    let cur = Current {
        display_name: &before.display_name,
        mobile: before.mobile.as_deref().unwrap_or(""),
        email: before.email.as_deref().unwrap_or(""),
        locale: &before.locale,
        time_zone: &before.time_zone,
    };
    let common = check_common(input, &mut c, &cur);
    c.finish()?;
    let common = common.ok_or(AppError::BadRequest("error-validation"))?;
    if let Some(d) = department_id.filter(|d| Some(*d) != before.department_id) {
        guanxi_store::departments::get(&state.db, d)
            .await
            .map_err(|_| FieldError::new("department_id", "error-department-missing"))?;
    }
    let roles_before = users::role_ids(&state.db, id).await?;
    let roles_change = input.role_ids.as_ref().filter(|r| {
        let mut r = (*r).clone();
        r.sort_unstable();
        r != roles_before
    });
    if let Some(r) = roles_change {
        check_roles(state, auth, r).await?;
    }
    let mut tx = state.db.begin().await?;
    users::update(
        &mut tx,
        &grant,
        id,
        &UserUpdate {
            display_name: &common.display_name,
            mobile: common.mobile.as_deref(),
            email: common.email.as_deref(),
            department_id,
            locale: &common.locale,
            time_zone: &common.time_zone,
        },
    )
    .await?;
    let mut changes = serde_json::Map::new();
    let mut diff = |field: &str, old: serde_json::Value, new: serde_json::Value| {
        if old != new {
            changes.insert(field.to_owned(), json!([old, new]));
        }
    };
    diff(
        "display_name",
        json!(before.display_name),
        json!(common.display_name),
    );
    diff("mobile", json!(before.mobile), json!(common.mobile));
    diff("email", json!(before.email), json!(common.email));
    diff(
        "department_id",
        json!(before.department_id),
        json!(department_id),
    );
    diff("locale", json!(before.locale), json!(common.locale));
    diff(
        "time_zone",
        json!(before.time_zone),
        json!(common.time_zone),
    );
    if let Some(r) = roles_change {
        users::set_roles(&mut tx, id, r).await?;
        diff("role_ids", json!(roles_before), json!(r));
    }
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new("user.update", format!("updated user {}", before.username))
            .module(Module::Users)
            .target(id, &before.username)
            .details(changes.into()),
    )
    .await?;
    tx.commit().await?;
    get(state, auth, id).await
}

pub async fn set_active(
    state: &AppState,
    auth: &Auth,
    id: i64,
    active: bool,
) -> AppResult<UserDetail> {
    let grant = auth.principal.authorize(Module::Users, Action::Edit)?;
    if id == auth.principal.user_id && !active {
        return Err(AppError::conflict("error-disable-self"));
    }
    let before = users::get(&state.db, &grant, id).await?;
    let mut tx = state.db.begin().await?;
    users::set_active(&mut tx, &grant, id, active).await?;
    let (action, verb) = if active {
        ("user.enable", "enabled")
    } else {
        ("user.disable", "disabled")
    };
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(action, format!("{verb} user {}", before.username))
            .module(Module::Users)
            .target(id, &before.username),
    )
    .await?;
    tx.commit().await?;
    get(state, auth, id).await
}

/// Sets a new random password (returned once), ending the user's sessions and lifting a lock.
pub async fn reset_password(state: &AppState, auth: &Auth, id: i64) -> AppResult<String> {
    let grant = auth.principal.authorize(Module::Users, Action::Edit)?;
    let before = users::get(&state.db, &grant, id).await?;
    let password = guanxi_core::security::random_password();
    let hash = guanxi_core::security::hash_password(&password);
    let mut tx = state.db.begin().await?;
    users::reset_password(&mut tx, &grant, id, &hash).await?;
    audit::record(
        &mut tx,
        &auth.actor,
        Event::new(
            "user.reset_password",
            format!("reset the password of {}", before.username),
        )
        .module(Module::Users)
        .target(id, &before.username),
    )
    .await?;
    tx.commit().await?;
    Ok(password)
}
