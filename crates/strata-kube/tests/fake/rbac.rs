//! Who may do what: requests made as a ServiceAccount (the user
//! `system:serviceaccount:NAMESPACE:NAME`, which the tests' kubeconfigs
//! name by impersonation) are authorized by the Roles, ClusterRoles and
//! their bindings the fake holds, as the API server's RBAC authorizer does;
//! any other caller is an administrator. Discovery and the version are open
//! to everyone.

use serde_json::Value;

use super::store::{KindDef, State};

/// One request on a resource, as RBAC sees it.
pub(super) struct Attributes<'a> {
    /// `get`, `list`, `create`, `patch`, `delete`.
    pub(super) verb: &'static str,
    pub(super) def: &'a KindDef,
    /// Empty for cluster-scoped kinds.
    pub(super) namespace: &'a str,
    /// None for `create` and `list`, whose objects have no name yet.
    pub(super) name: Option<&'a str>,
}

/// The ServiceAccount a user name names: (namespace, name).
pub(super) fn service_account(user: &str) -> Option<(&str, &str)> {
    let rest = user.strip_prefix("system:serviceaccount:")?;
    rest.split_once(':')
}

/// Whether `user` may make the request; always for an administrator.
pub(super) fn allowed(state: &State, user: Option<&str>, request: &Attributes<'_>) -> bool {
    let Some((sa_namespace, sa_name)) = user.and_then(service_account) else {
        return true;
    };
    let binds_me = |binding: &Value| {
        binding["subjects"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| {
                s["kind"] == "ServiceAccount"
                    && s["name"] == sa_name
                    && s["namespace"] == sa_namespace
            })
    };
    let grants = |role: &Value| {
        role["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|rule| rule_allows(rule, request))
    };
    let role = |kind: &str, namespace: &str, name: &str| {
        state
            .objects
            .values()
            .map(|s| &s.value)
            .find(|v| {
                v["kind"] == kind
                    && v["metadata"]["name"] == name
                    && v["metadata"]["namespace"].as_str().unwrap_or("") == namespace
            })
            .is_some_and(grants)
    };
    state.objects.values().map(|s| &s.value).any(|binding| {
        let reference = &binding["roleRef"];
        let name = reference["name"].as_str().unwrap_or("");
        match binding["kind"].as_str() {
            // A RoleBinding grants in its own namespace only.
            Some("RoleBinding") => {
                binding["metadata"]["namespace"] == request.namespace
                    && binds_me(binding)
                    && match reference["kind"].as_str() {
                        Some("Role") => role("Role", request.namespace, name),
                        Some("ClusterRole") => role("ClusterRole", "", name),
                        _ => false,
                    }
            }
            Some("ClusterRoleBinding") => binds_me(binding) && role("ClusterRole", "", name),
            _ => false,
        }
    })
}

fn rule_allows(rule: &Value, request: &Attributes<'_>) -> bool {
    let has = |field: &str, wanted: &str| {
        rule[field]
            .as_array()
            .into_iter()
            .flatten()
            .any(|v| v == "*" || v == wanted)
    };
    let names = rule["resourceNames"].as_array().filter(|n| !n.is_empty());
    has("apiGroups", &request.def.group)
        && has("resources", &request.def.plural)
        && has("verbs", request.verb)
        && names.is_none_or(|names| {
            request
                .name
                .is_some_and(|name| names.iter().any(|n| n == name))
        })
}

/// The API server's refusal, word for word.
pub(super) fn forbidden_message(user: &str, request: &Attributes<'_>) -> String {
    let object = match request.name {
        Some(name) => format!("{} \"{name}\"", request.def.plural),
        None => request.def.plural.clone(),
    };
    let scope = if request.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{}\"", request.namespace)
    };
    format!(
        "{object} is forbidden: User \"{user}\" cannot {} resource \"{}\" in API group \"{}\" {scope}",
        request.verb, request.def.plural, request.def.group
    )
}
