//! The permission policy: which modules and actions a user's roles allow, and which records a
//! data scope lets them touch.
//!
//! The only way to obtain a [`Grant`] is [`Principal::authorize`]; the store's functions for
//! scoped data demand a `Grant`, so a handler that forgot the check does not compile.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A module of Guanxi that permissions are granted on. Later modules add variants here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Module {
    Customers,
    Contacts,
    Organisations,
    FollowUps,
    Pools,
    Departments,
    Users,
    Roles,
    AuditLog,
    Settings,
}

impl Module {
    pub const ALL: [Module; 10] = [
        Module::Customers,
        Module::Contacts,
        Module::Organisations,
        Module::FollowUps,
        Module::Pools,
        Module::Departments,
        Module::Users,
        Module::Roles,
        Module::AuditLog,
        Module::Settings,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Module::Customers => "customers",
            Module::Contacts => "contacts",
            Module::Organisations => "organisations",
            Module::FollowUps => "follow_ups",
            Module::Pools => "pools",
            Module::Departments => "departments",
            Module::Users => "users",
            Module::Roles => "roles",
            Module::AuditLog => "audit_log",
            Module::Settings => "settings",
        }
    }

    pub fn from_code(code: &str) -> Option<Module> {
        Module::ALL.into_iter().find(|m| m.code() == code)
    }

    /// The actions that mean something for this module (the role editor shows only these).
    pub fn actions(self) -> &'static [Action] {
        use Action::*;
        match self {
            Module::Customers | Module::Contacts | Module::Organisations | Module::FollowUps => {
                &[View, Create, Edit, Delete, Import, Export, Assign]
            }
            // View: see the pools one is a member of and claim from them; Manage: set them up.
            Module::Pools => &[View, Manage],
            Module::Departments => &[View, Create, Edit, Delete],
            Module::Users => &[View, Create, Edit, Delete, Import, Export, Assign],
            Module::Roles => &[View, Create, Edit, Delete, Manage],
            Module::AuditLog => &[View, Export],
            Module::Settings => &[View, Manage],
        }
    }

    /// Whether records of this module have an owner and a department, so a data scope applies.
    pub fn is_scoped(self) -> bool {
        matches!(
            self,
            Module::Users
                | Module::Customers
                | Module::Contacts
                | Module::Organisations
                | Module::FollowUps
        )
    }
}

/// What a user may do in a module. Stored as a bit set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    View,
    Create,
    Edit,
    Delete,
    Import,
    Export,
    Assign,
    Manage,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::View,
        Action::Create,
        Action::Edit,
        Action::Delete,
        Action::Import,
        Action::Export,
        Action::Assign,
        Action::Manage,
    ];

    pub fn bit(self) -> i64 {
        1 << (self as u8)
    }

    pub fn code(self) -> &'static str {
        match self {
            Action::View => "view",
            Action::Create => "create",
            Action::Edit => "edit",
            Action::Delete => "delete",
            Action::Import => "import",
            Action::Export => "export",
            Action::Assign => "assign",
            Action::Manage => "manage",
        }
    }

    pub fn from_code(code: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// Whose records a role sees in a module. Ordered from narrow to wide, so the union of several
/// roles is the maximum.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    Own,
    Department,
    DepartmentTree,
    All,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Scope::Own,
        Scope::Department,
        Scope::DepartmentTree,
        Scope::All,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Scope::Own => "own",
            Scope::Department => "department",
            Scope::DepartmentTree => "department_tree",
            Scope::All => "all",
        }
    }

    pub fn from_code(code: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn as_i16(self) -> i16 {
        self as i16
    }

    pub fn from_i16(v: i16) -> Scope {
        match v {
            1 => Scope::Department,
            2 => Scope::DepartmentTree,
            3 => Scope::All,
            _ => Scope::Own,
        }
    }
}

/// One role's (or the union of roles') rights in one module.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModulePermission {
    pub actions: i64,
    pub scope: Scope,
}

impl ModulePermission {
    pub fn allows(&self, action: Action) -> bool {
        self.actions & action.bit() != 0
    }

    pub fn merge(&mut self, other: ModulePermission) {
        self.actions |= other.actions;
        self.scope = self.scope.max(other.scope);
    }

    pub fn with(actions: &[Action], scope: Scope) -> ModulePermission {
        ModulePermission {
            actions: actions.iter().fold(0, |acc, a| acc | a.bit()),
            scope,
        }
    }
}

/// The signed-in user as the policy sees them: identity, department, and the union of the rights
/// of all their roles. Built by the store from the database (and kept a few seconds per session).
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub department_id: Option<i64>,
    pub locale: crate::Locale,
    pub time_zone: String,
    /// A role demands two-factor login and the user has not set it up yet: until they do, the
    /// only pages open to them are the set-up page and sign-out.
    pub needs_totp_setup: bool,
    /// The user collaborates (协作人) on some record: view and edit grants reach those too.
    pub collaborates: bool,
    permissions: BTreeMap<Module, ModulePermission>,
    /// The user's own department and every department below it.
    department_tree: Vec<i64>,
}

/// Refusal of an action: the module and action, for a clear message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("permission denied: {action:?} on {module:?}")]
pub struct Denied {
    pub module: Module,
    pub action: Action,
}

impl Principal {
    #[expect(
        clippy::too_many_arguments,
        reason = "built in one place, by the store"
    )]
    pub fn new(
        user_id: i64,
        username: String,
        display_name: String,
        department_id: Option<i64>,
        locale: crate::Locale,
        time_zone: String,
        permissions: BTreeMap<Module, ModulePermission>,
        department_tree: Vec<i64>,
    ) -> Principal {
        Principal {
            user_id,
            username,
            display_name,
            department_id,
            locale,
            time_zone,
            needs_totp_setup: false,
            collaborates: false,
            permissions,
            department_tree,
        }
    }

    pub fn can(&self, module: Module, action: Action) -> bool {
        self.permissions
            .get(&module)
            .is_some_and(|p| p.allows(action))
    }

    pub fn permission(&self, module: Module) -> ModulePermission {
        self.permissions.get(&module).copied().unwrap_or_default()
    }

    /// The single gate: a grant to perform `action` in `module`, carrying the data scope that
    /// every query made with it must apply.
    pub fn authorize(&self, module: Module, action: Action) -> Result<Grant, Denied> {
        let perm = self.permission(module);
        if !perm.allows(action) {
            return Err(Denied { module, action });
        }
        let filter = match perm.scope {
            Scope::All => ScopeFilter::All,
            Scope::Own => ScopeFilter::Own(self.user_id),
            Scope::Department => ScopeFilter::Departments {
                user_id: self.user_id,
                departments: self.department_id.into_iter().collect(),
            },
            Scope::DepartmentTree => ScopeFilter::Departments {
                user_id: self.user_id,
                departments: self.department_tree.clone(),
            },
        };
        Ok(Grant {
            module,
            action,
            user_id: self.user_id,
            collaborates: self.collaborates && matches!(action, Action::View | Action::Edit),
            filter,
        })
    }
}

/// Whose records a grant reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopeFilter {
    All,
    /// Records owned by this user.
    Own(i64),
    /// Records whose department is one of these, plus the user's own records wherever they are.
    Departments {
        user_id: i64,
        departments: Vec<i64>,
    },
}

/// Proof that a principal may perform one action in one module, with the data scope to apply.
/// Constructed only by [`Principal::authorize`] (fields are private).
#[derive(Clone, Debug)]
pub struct Grant {
    module: Module,
    action: Action,
    user_id: i64,
    /// Records the user collaborates on are in scope too (view and edit grants only).
    collaborates: bool,
    filter: ScopeFilter,
}

impl Grant {
    pub fn module(&self) -> Module {
        self.module
    }

    pub fn action(&self) -> Action {
        self.action
    }

    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    pub fn filter(&self) -> &ScopeFilter {
        &self.filter
    }

    /// Whether records the user collaborates on are added to the scope (a view or edit grant of
    /// a user who collaborates on something, short of the whole module).
    pub fn via_collaboration(&self) -> bool {
        self.collaborates && self.filter != ScopeFilter::All
    }

    /// Whether a record with this owner and department is inside the scope.
    pub fn covers(&self, owner_id: Option<i64>, department_id: Option<i64>) -> bool {
        match &self.filter {
            ScopeFilter::All => true,
            ScopeFilter::Own(me) => owner_id == Some(*me),
            ScopeFilter::Departments {
                user_id,
                departments,
            } => {
                owner_id == Some(*user_id)
                    || department_id.is_some_and(|d| departments.contains(&d))
            }
        }
    }

    /// The SQL predicate for this scope over a table's owner and department columns. Only
    /// integers from the database are inlined, so the text is safe to splice into a query.
    pub fn sql_predicate(&self, owner_col: &str, department_col: &str) -> String {
        match &self.filter {
            ScopeFilter::All => "1=1".to_owned(),
            ScopeFilter::Own(me) => format!("{owner_col} = {me}"),
            ScopeFilter::Departments {
                user_id,
                departments,
            } if departments.is_empty() => {
                format!("{owner_col} = {user_id}")
            }
            ScopeFilter::Departments {
                user_id,
                departments,
            } => {
                let list: Vec<String> = departments.iter().map(i64::to_string).collect();
                format!(
                    "({owner_col} = {user_id} OR {department_col} IN ({}))",
                    list.join(",")
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(scope: Scope, actions: &[Action]) -> Principal {
        let mut perms = BTreeMap::new();
        perms.insert(Module::Users, ModulePermission::with(actions, scope));
        Principal::new(
            7,
            "li".into(),
            "李".into(),
            Some(2),
            crate::Locale::ZhCn,
            "Asia/Shanghai".into(),
            perms,
            vec![2, 5, 6],
        )
    }

    #[test]
    fn authorize_refuses_missing_action() {
        let p = principal(Scope::All, &[Action::View]);
        assert!(p.authorize(Module::Users, Action::View).is_ok());
        assert_eq!(
            p.authorize(Module::Users, Action::Delete).unwrap_err(),
            Denied {
                module: Module::Users,
                action: Action::Delete
            }
        );
        assert!(p.authorize(Module::Roles, Action::View).is_err());
    }

    #[test]
    fn scopes_cover_the_right_records() {
        // (scope, owner, department, expected)
        let cases = [
            (Scope::Own, Some(7), Some(9), true),
            (Scope::Own, Some(8), Some(2), false),
            (Scope::Department, Some(8), Some(2), true),
            (Scope::Department, Some(8), Some(5), false),
            (Scope::Department, Some(7), Some(9), true),
            (Scope::DepartmentTree, Some(8), Some(5), true),
            (Scope::DepartmentTree, Some(8), Some(6), true),
            (Scope::DepartmentTree, Some(8), Some(1), false),
            (Scope::DepartmentTree, None, None, false),
            (Scope::All, None, None, true),
        ];
        for (scope, owner, dept, expected) in cases {
            let g = principal(scope, &[Action::View])
                .authorize(Module::Users, Action::View)
                .unwrap();
            assert_eq!(
                g.covers(owner, dept),
                expected,
                "{scope:?} {owner:?} {dept:?}"
            );
        }
    }

    #[test]
    fn sql_predicates() {
        let g = |s| {
            principal(s, &[Action::View])
                .authorize(Module::Users, Action::View)
                .unwrap()
        };
        assert_eq!(g(Scope::All).sql_predicate("o", "d"), "1=1");
        assert_eq!(g(Scope::Own).sql_predicate("o", "d"), "o = 7");
        assert_eq!(
            g(Scope::Department).sql_predicate("o", "d"),
            "(o = 7 OR d IN (2))"
        );
        assert_eq!(
            g(Scope::DepartmentTree).sql_predicate("o", "d"),
            "(o = 7 OR d IN (2,5,6))"
        );
    }

    #[test]
    fn union_of_roles_takes_widest_scope_and_all_actions() {
        let mut a = ModulePermission::with(&[Action::View], Scope::Own);
        a.merge(ModulePermission::with(
            &[Action::Edit],
            Scope::DepartmentTree,
        ));
        assert!(a.allows(Action::View) && a.allows(Action::Edit) && !a.allows(Action::Delete));
        assert_eq!(a.scope, Scope::DepartmentTree);
    }
}
