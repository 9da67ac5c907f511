//! The template of one object family: a JSON tree whose tunable fields,
//! and fields that differ between renders, are holes filled from values.

use serde_json::{Map, Value, json};

use super::identifiers::{identifier, lower_camel, upper_camel};
use super::values::{Style, Values, style_of};
use crate::image::ImageRef;

/// Kinds whose `spec.replicas` is a value.
const REPLICATED_KINDS: [&str; 2] = ["Deployment", "StatefulSet"];

/// Kinds whose host names are values.
const ROUTING_KINDS: [&str; 6] = [
    "Ingress",
    "Gateway",
    "VirtualService",
    "HTTPRoute",
    "GRPCRoute",
    "KongIngress",
];

/// The template of one object: a JSON tree with holes.
pub(super) enum Node {
    /// A value every render has.
    Literal(Value),
    /// A map whose keys every render has.
    Map(Vec<(String, Node)>),
    /// A map key only some renders have: written when the flag at the
    /// path is true, with its value from the hole.
    Optional(Vec<String>, Box<Node>),
    /// A list as long in every render.
    List(Vec<Node>),
    /// A hole: its `.Values` path and style.
    Hole(Vec<String>, Style),
}

/// Builds the template of one object family, placing its values.
pub(super) struct TemplateBuilder<'b> {
    /// The object's kind.
    pub(super) kind: &'b str,
    /// What names of values start with: the kind, or nothing when the
    /// object has a group of its own.
    pub(super) prefix: &'b str,
    /// Where the object's values are, under `.Values`.
    pub(super) group: &'b [String],
    /// The values of the object's chart.
    pub(super) chart: &'b mut Values,
    /// The values every chart shares (`.Values.global`).
    pub(super) global: &'b mut Values,
}

impl TemplateBuilder<'_> {
    /// The template of the versions of one field at `path`; `element` is the
    /// `name` of the list item it is in, when all versions agree on one.
    pub(super) fn unify(
        &mut self,
        path: &mut Vec<String>,
        element: Option<&str>,
        versions: &[&Value],
    ) -> Node {
        if let Some(node) = self.tunable(path, element, versions) {
            return node;
        }
        let first = versions[0];
        let same = versions.iter().all(|v| *v == first);
        if same && !first.is_object() && !first.is_array() {
            return Node::Literal(first.clone());
        }
        if let Value::Object(map) = first
            && versions.iter().all(|v| {
                v.as_object().is_some_and(|m| {
                    m.len() == map.len() && m.keys().zip(map.keys()).all(|(a, b)| a == b)
                })
            })
        {
            let mut fields = Vec::new();
            for key in map.keys() {
                let children: Vec<&Value> = versions.iter().map(|v| &v[key.as_str()]).collect();
                path.push(key.clone());
                fields.push((key.clone(), self.unify(path, element, &children)));
                path.pop();
            }
            return Node::Map(fields);
        }
        if versions.iter().all(|v| v.is_object()) {
            let mut keys: Vec<&String> = Vec::new();
            for version in versions {
                for key in version.as_object().into_iter().flat_map(Map::keys) {
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
            }
            let in_all = |key: &str| versions.iter().all(|v| v.get(key).is_some());
            // A key every render has comes first, so no optional key starts
            // a list item.
            if let Some(lead) = keys.iter().position(|k| in_all(k)) {
                let lead = keys.remove(lead);
                keys.insert(0, lead);
                let mut fields = Vec::new();
                for key in keys {
                    path.push(key.clone());
                    if in_all(key) {
                        let children: Vec<&Value> =
                            versions.iter().map(|v| &v[key.as_str()]).collect();
                        fields.push((key.clone(), self.unify(path, element, &children)));
                    } else {
                        let present = versions
                            .iter()
                            .find_map(|v| v.get(key.as_str()))
                            .unwrap_or(&Value::Null);
                        let children: Vec<&Value> = versions
                            .iter()
                            .map(|v| v.get(key.as_str()).unwrap_or(present))
                            .collect();
                        let name = self.generic_name(path, element);
                        let value = self.hole(&name, &children, false);
                        let flags: Vec<Value> = versions
                            .iter()
                            .map(|v| json!(v.get(key.as_str()).is_some()))
                            .collect();
                        let flag = self.chart.place(
                            self.group,
                            &format!("{name}Enabled"),
                            flags,
                            Style::Plain,
                        );
                        fields.push((key.clone(), Node::Optional(flag, Box::new(value))));
                    }
                    path.pop();
                }
                return Node::Map(fields);
            }
        }
        if let Value::Array(items) = first
            && versions
                .iter()
                .all(|v| v.as_array().is_some_and(|a| a.len() == items.len()))
        {
            let mut out = Vec::new();
            for i in 0..items.len() {
                let children: Vec<&Value> = versions.iter().map(|v| &v[i]).collect();
                let name = children[0]["name"]
                    .as_str()
                    .filter(|n| children.iter().all(|c| c["name"].as_str() == Some(n)));
                path.push(i.to_string());
                out.push(self.unify(path, name.or(element), &children));
                path.pop();
            }
            return Node::List(out);
        }
        if same {
            return Node::Literal(first.clone());
        }
        if let (Some(var), [.., env, _, value]) = (element, path.as_slice())
            && env == "env"
            && value == "value"
        {
            let mut group = self.group.to_vec();
            group.push("env".to_string());
            let values: Vec<Value> = versions.iter().map(|v| (*v).clone()).collect();
            let style = style_of(&values);
            return Node::Hole(
                self.chart.place(&group, &identifier(var), values, style),
                style,
            );
        }
        let name = self.generic_name(path, element);
        self.hole(&name, versions, false)
    }

    /// The name of a value that is not a tunable: the kind, the list item
    /// and the last words of the path (`networkPolicyEgress`).
    fn generic_name(&self, path: &[String], element: Option<&str>) -> String {
        let words: Vec<&str> = path
            .iter()
            .rev()
            .filter(|s| s.parse::<usize>().is_err())
            .take(if element.is_some() { 1 } else { 2 })
            .map(String::as_str)
            .collect();
        let mut name = if self.prefix.is_empty() {
            String::new()
        } else {
            lower_camel(self.prefix)
        };
        if let Some(element) = element {
            name.push_str(&upper_camel(element));
        }
        for word in words.iter().rev() {
            name.push_str(&upper_camel(word));
        }
        if name.is_empty() {
            "value".to_string()
        } else {
            lower_camel(&name)
        }
    }

    /// The hole of a tunable field, if `path` is one.
    fn tunable(
        &mut self,
        path: &[String],
        element: Option<&str>,
        versions: &[&Value],
    ) -> Option<Node> {
        let steps: Vec<&str> = path.iter().map(String::as_str).collect();
        let last = *steps.last()?;
        let in_first_container = steps.len() >= 3
            && steps[steps.len() - 3] == "containers"
            && steps[steps.len() - 2] == "0";
        let name = match (self.kind, steps.as_slice()) {
            (_, ["metadata", "namespace"] | [.., "matchLabels", "kubernetes.io/metadata.name"])
            | ("Namespace", ["metadata", "name"]) => {
                return Some(self.namespace_hole(versions));
            }
            (kind, ["spec", "replicas"]) if REPLICATED_KINDS.contains(&kind) => "replicas",
            (_, [.., "image"]) if in_first_container => "image",
            (_, [.., "resources"]) if in_first_container => "resources",
            ("StatefulSet" | "PersistentVolumeClaim", [.., "resources", "requests", "storage"]) => {
                "storage"
            }
            ("StatefulSet" | "PersistentVolumeClaim", [.., "storageClassName"]) => "storageClass",
            (kind, [.., "host" | "hosts" | "hostname" | "hostnames"])
                if ROUTING_KINDS.contains(&kind) =>
            {
                last
            }
            _ => return None,
        };
        let name = match element {
            Some(element) if ROUTING_KINDS.contains(&self.kind) => {
                format!("{}{}", lower_camel(element), upper_camel(name))
            }
            _ => name.to_string(),
        };
        let image = name == "image";
        Some(self.hole(&name, versions, image))
    }

    /// Namespaces are shared by every chart, under `global.namespaces`.
    fn namespace_hole(&mut self, versions: &[&Value]) -> Node {
        let name = versions[0]
            .as_str()
            .map_or_else(|| "namespace".to_string(), identifier);
        let values: Vec<Value> = versions.iter().map(|v| (*v).clone()).collect();
        let style = style_of(&values);
        let path = self
            .global
            .place(&["namespaces".to_string()], &name, values, style);
        let mut full = vec!["global".to_string()];
        full.extend(path);
        Node::Hole(full, style)
    }

    /// A hole named `name` in the object's group; `image` splits tagged
    /// images into repository and tag.
    fn hole(&mut self, name: &str, versions: &[&Value], image: bool) -> Node {
        let mut values: Vec<Value> = versions.iter().map(|v| (*v).clone()).collect();
        let mut style = style_of(&values);
        if image {
            let split: Option<Vec<Value>> = values
                .iter()
                .map(|v| {
                    let image = v.as_str()?;
                    let (repository, tag) = split_image(image)?;
                    Some(json!({ "repository": repository, "tag": tag }))
                })
                .collect();
            if let Some(split) = split {
                values = split;
                style = Style::Image;
            }
        }
        let path = self.chart.place(self.group, name, values, style);
        Node::Hole(path, style)
    }
}

/// `repository:tag` of an image with a tag and no digest.
fn split_image(image: &str) -> Option<(&str, &str)> {
    let reference = ImageRef::parse(image);
    if reference.digest.is_some() {
        return None;
    }
    Some((reference.name(), reference.tag?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tagged_images_without_a_digest_split_into_repository_and_tag() {
        assert_eq!(split_image("shop/web:1.0"), Some(("shop/web", "1.0")));
        assert_eq!(
            split_image("localhost:5000/a/b:1.0"),
            Some(("localhost:5000/a/b", "1.0"))
        );
        assert_eq!(split_image("registry:5000"), Some(("registry", "5000")));
        assert_eq!(split_image("localhost:5000/a/b"), None);
        assert_eq!(split_image("nginx:1.0@sha256:abc"), None);
        assert_eq!(split_image("nginx"), None);
    }
}
