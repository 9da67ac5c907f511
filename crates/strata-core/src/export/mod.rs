//! Sinks that turn a [`RenderedSet`] into text: a YAML stream, a JSON
//! `List`, and file layouts for `render --out`; a Kustomize tree
//! ([`kustomize`]), a Helm chart ([`helm`]) and pictures ([`diagram`]).
//! Pure: they return file contents; the binary writes them.

pub mod diagram;
pub mod helm;
pub mod kustomize;

use std::path::PathBuf;

use serde_json::json;

use crate::render::{Object, RenderedSet};

/// How `render --out` splits objects into files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One file with every object.
    Single,
    /// One file per tier, plus `00-setup` for namespaces and cluster objects.
    PerTier,
    /// One file per object, named so that sorted order is apply order.
    PerObject,
}

/// The text format of objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A multi-document YAML stream.
    Yaml,
    /// JSON; several objects make a `v1/List`.
    Json,
}

pub use crate::render::yaml;

/// Objects as text in `format`.
pub fn stream(objects: &[&Object], format: Format) -> String {
    match format {
        Format::Yaml => objects.iter().fold(String::new(), |mut text, o| {
            text.push_str("---\n");
            text.push_str(&yaml(&o.value));
            text
        }),
        Format::Json => {
            let value = match objects {
                [one] => one.value.clone(),
                many => {
                    json!({ "apiVersion": "v1", "kind": "List", "items": many.iter().map(|o| &o.value).collect::<Vec<_>>() })
                }
            };
            format!(
                "{}\n",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            )
        }
    }
}

/// The files of a rendered set in `layout`, as relative paths and contents.
pub fn files(set: &RenderedSet, layout: Layout, format: Format) -> Vec<(PathBuf, String)> {
    let extension = match format {
        Format::Yaml => "yaml",
        Format::Json => "json",
    };
    let all: Vec<&Object> = set.objects.iter().collect();
    match layout {
        Layout::Single => vec![(
            PathBuf::from(format!("{}.{extension}", set.platform)),
            stream(&all, format),
        )],
        Layout::PerTier => {
            let mut groups: Vec<(String, Vec<&Object>)> = Vec::new();
            let mut tier_order: Vec<String> = Vec::new();
            for object in &all {
                let group = object.tier.clone().unwrap_or_else(|| "setup".to_string());
                if !tier_order.contains(&group) {
                    tier_order.push(group.clone());
                }
                match groups.iter_mut().find(|(g, _)| *g == group) {
                    Some((_, members)) => members.push(object),
                    None => groups.push((group, vec![object])),
                }
            }
            groups
                .into_iter()
                .map(|(group, members)| {
                    let index = tier_order.iter().position(|g| *g == group).unwrap_or(0);
                    (
                        PathBuf::from(format!("{index:02}-{group}.{extension}")),
                        stream(&members, format),
                    )
                })
                .collect()
        }
        Layout::PerObject => all
            .iter()
            .enumerate()
            .map(|(i, object)| {
                let name = format!(
                    "{i:04}-{}-{}.{extension}",
                    object.kind().to_ascii_lowercase(),
                    object.name()
                );
                (PathBuf::from(name), stream(&[object], format))
            })
            .collect(),
    }
}
