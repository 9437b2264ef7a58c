//! The frame around every signed-in page: top bar, the function tree (功能树) showing only what
//! the user's roles allow, breadcrumbs and the success toast.

use guanxi_core::{Action, I18n, Locale, Module, Principal};

use crate::auth::Auth;
use crate::state::AppState;

/// Translation handle for templates: `{{ tr.t("key") }}`.
#[derive(Clone, Copy, Debug)]
pub struct Tr(pub Locale);

impl Tr {
    pub fn t(&self, key: &str) -> String {
        I18n::global().t(self.0, key)
    }

    pub fn t1(&self, key: &str, name: &'static str, value: &str) -> String {
        I18n::global().t_args(self.0, key, &[(name, value.to_owned())])
    }

    pub fn asset_version(&self) -> &'static str {
        crate::assets::version()
    }

    pub fn lang(&self) -> &'static str {
        self.0.code()
    }

    pub fn module(&self, code: &str) -> String {
        self.t(&format!("module-{code}"))
    }

    pub fn action(&self, code: &str) -> String {
        self.t(&format!("action-{code}"))
    }

    pub fn icon(&self, name: &str) -> &'static str {
        icon_path(name)
    }

    /// The label of an audit action code, or the code itself when it has none.
    pub fn audit_action(&self, code: &str) -> String {
        let key = format!("audit-action-{}", code.replace(['.', '_'], "-"));
        let label = self.t(&key);
        if label == key { code.to_owned() } else { label }
    }

    pub fn scope(&self, code: &str) -> String {
        self.t(&format!("scope-{}", code.replace('_', "-")))
    }
}

pub struct MenuItem {
    pub href: &'static str,
    pub label: String,
    pub icon: &'static str,
    pub active: bool,
}

pub struct MenuGroup {
    pub label: String,
    pub items: Vec<MenuItem>,
}

pub struct Shell {
    pub tr: Tr,
    pub company: String,
    pub display_name: String,
    pub username: String,
    pub initial: String,
    pub menu: Vec<MenuGroup>,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub flash: Option<String>,
    /// Unread notifications, for the bell (kept live by `app.js`).
    pub unread: i64,
}

/// (group label key, [(href, label key, icon, required module)]); `None` = every signed-in user.
type Tree = [(
    &'static str,
    &'static [(&'static str, &'static str, &'static str, Option<Module>)],
)];

const TREE: &Tree = &[
    (
        "menu-office",
        &[
            ("/", "menu-home", "home", None),
            ("/tasks", "tasks-title", "clock", Some(Module::FollowUps)),
        ],
    ),
    (
        "menu-customers",
        &[
            (
                "/customers",
                "module-customers",
                "building",
                Some(Module::Customers),
            ),
            (
                "/contacts",
                "module-contacts",
                "user",
                Some(Module::Contacts),
            ),
            (
                "/organisations",
                "module-organisations",
                "briefcase",
                Some(Module::Organisations),
            ),
            (
                "/follow_ups",
                "module-follow_ups",
                "clock",
                Some(Module::FollowUps),
            ),
            ("/pools", "module-pools", "users", Some(Module::Pools)),
            (
                "/incoming",
                "incoming-title",
                "bell",
                Some(Module::Customers),
            ),
        ],
    ),
    (
        "menu-admin",
        &[
            (
                "/admin/departments",
                "module-departments",
                "tree",
                Some(Module::Departments),
            ),
            ("/admin/users", "module-users", "users", Some(Module::Users)),
            (
                "/admin/roles",
                "module-roles",
                "shield",
                Some(Module::Roles),
            ),
            (
                "/admin/audit",
                "module-audit_log",
                "list",
                Some(Module::AuditLog),
            ),
            (
                "/admin/history",
                "history-title",
                "list",
                Some(Module::AuditLog),
            ),
            (
                "/admin/settings",
                "module-settings",
                "gear",
                Some(Module::Settings),
            ),
            (
                "/admin/regions",
                "regions-title",
                "tree",
                Some(Module::Settings),
            ),
            (
                "/admin/dictionary",
                "dictionary-title",
                "list",
                Some(Module::Settings),
            ),
            (
                "/admin/fields",
                "fields-title",
                "list",
                Some(Module::Settings),
            ),
            (
                "/admin/rules",
                "rules-title",
                "list",
                Some(Module::Settings),
            ),
            ("/admin/jobs", "jobs-title", "clock", Some(Module::Settings)),
            (
                "/admin/pools",
                "pools-admin-title",
                "gear",
                Some(Module::Pools),
            ),
        ],
    ),
];

/// What an entry needs of its module: pool settings are for those who manage pools, the rest
/// of the tree opens to viewers.
fn needed(href: &str) -> Action {
    if href == "/admin/pools" {
        Action::Manage
    } else {
        Action::View
    }
}

/// The menu for a principal: groups with no allowed item disappear.
pub fn menu(p: &Principal, tr: Tr, active: &str) -> Vec<MenuGroup> {
    TREE.iter()
        .map(|(label, items)| MenuGroup {
            label: tr.t(label),
            items: items
                .iter()
                .filter(|(href, _, _, m)| m.is_none_or(|m| p.can(m, needed(href))))
                .map(|(href, key, icon, _)| MenuItem {
                    href,
                    label: tr.t(key),
                    icon,
                    active: *href == active,
                })
                .collect(),
        })
        .filter(|g| !g.items.is_empty())
        .collect()
}

impl Shell {
    pub async fn new(state: &AppState, auth: &Auth, active: &str, title_key: &str) -> Shell {
        let tr = Tr(auth.locale);
        let company = guanxi_store::settings::load(&state.db)
            .await
            .map(|s| s.company_name)
            .unwrap_or_else(|_| tr.t("app-name"));
        let p = &auth.principal;
        let unread = guanxi_store::notifications::unread_count(&state.db, p.user_id)
            .await
            .unwrap_or(0);
        Shell {
            tr,
            company,
            display_name: p.display_name.clone(),
            username: p.username.clone(),
            initial: p
                .display_name
                .chars()
                .next()
                .map(String::from)
                .unwrap_or_default(),
            menu: menu(p, tr, active),
            title: tr.t(title_key),
            crumbs: vec![],
            flash: None,
            unread,
        }
    }

    pub fn crumb(mut self, href: &str, label_key: &str) -> Shell {
        self.crumbs.push((href.to_owned(), self.tr.t(label_key)));
        self
    }

    /// Shows the success toast named by `?ok=` (only `flash-*` messages).
    pub fn flash(mut self, ok: Option<&str>) -> Shell {
        self.flash = ok.filter(|k| k.starts_with("flash-")).map(|k| self.tr.t(k));
        self
    }

    /// The bell's badge: the unread count, "99+" above that.
    pub fn unread_badge(&self) -> String {
        unread_badge(self.unread)
    }

    /// The bell's accessible name, with the unread count when there are any.
    pub fn bell_label(&self) -> String {
        match self.unread {
            0 => self.tr.t("notifications"),
            n => self.tr.t1("bell-unread", "n", &n.to_string()),
        }
    }

    pub fn title(mut self, title: String) -> Shell {
        self.title = title;
        self
    }
}

pub fn unread_badge(n: i64) -> String {
    if n > 99 {
        "99+".to_owned()
    } else {
        n.to_string()
    }
}

/// Inline SVG path data of the small icon set drawn for Guanxi (24×24, stroked).
pub fn icon_path(name: &str) -> &'static str {
    match name {
        "home" => "M3 11l9-7 9 7v9a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1z",
        "tree" => "M4 4h6v5H4zM14 15h6v5h-6zM14 4h6v5h-6zM7 9v8h7M7 6.5h7",
        "users" => {
            "M16 19v-1a4 4 0 0 0-4-4H7a4 4 0 0 0-4 4v1M9.5 10a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7zM21 19v-1a4 4 0 0 0-3-3.9M15 3.1a3.5 3.5 0 0 1 0 6.8"
        }
        "shield" => "M12 3l8 3v6c0 4.5-3.4 8.3-8 9-4.6-.7-8-4.5-8-9V6z",
        "list" => "M8 6h13M8 12h13M8 18h13M3.5 6h.01M3.5 12h.01M3.5 18h.01",
        "gear" => {
            "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z"
        }
        "menu" => "M3 6h18M3 12h18M3 18h18",
        "building" => {
            "M4 21V5a2 2 0 0 1 2-2h8a2 2 0 0 1 2 2v16M16 9h2a2 2 0 0 1 2 2v10M2 21h20M8 7h4M8 11h4M8 15h4"
        }
        "user" => "M20 21v-1a5 5 0 0 0-5-5H9a5 5 0 0 0-5 5v1M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z",
        "briefcase" => "M3 8h18v12H3zM8 8V5a1 1 0 0 1 1-1h6a1 1 0 0 1 1 1v3M3 13h18",
        "search" => "M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM21 21l-4.3-4.3",
        "bell" => "M18 8a6 6 0 1 0-12 0c0 7-3 9-3 9h18s-3-2-3-9M13.7 21a2 2 0 0 1-3.4 0",
        "plus" => "M12 5v14M5 12h14",
        "clock" => "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 7v5l3 2",
        _ => "",
    }
}
