//! A chart being built: its templates and values, added one object family
//! at a time.

use serde_json::{Value, json};

use super::identifiers::{identifier, lower_camel, upper_camel};
use super::template::TemplateBuilder;
use super::template_text::render_template;
use super::values::{Style, Values};
use crate::export::kustomize::FileNames;
use crate::render::Object;

/// A chart: the umbrella (no tier) or a tier's subchart.
pub(super) struct Chart {
    /// Its tier; `None` for the umbrella.
    pub(super) tier: Option<String>,
    /// The values its templates use.
    pub(super) values: Values,
    /// Template files: name and text.
    pub(super) templates: Vec<(String, String)>,
    names: FileNames,
}

impl Chart {
    /// An empty chart of `tier`.
    pub(super) fn new(tier: Option<String>) -> Self {
        Chart {
            tier,
            values: Values::default(),
            templates: Vec::new(),
            names: FileNames::default(),
        }
    }

    /// Adds the template of one object family.
    pub(super) fn add(&mut self, family: &[Option<&Object>], global: &mut Values) {
        let Some(first) = family.iter().flatten().next().copied() else {
            return;
        };
        // A service's values are grouped under its name; an object of no
        // service has a group of its own, named after its kind and name.
        let group: Vec<String> = vec![match first.service.as_deref() {
            Some(service) => identifier(service),
            None => format!("{}{}", lower_camel(first.kind()), upper_camel(first.name())),
        }];
        let own_group = first.service.is_none();
        let present: Vec<&Value> = family.iter().flatten().map(|o| &o.value).collect();
        // Renders without the object take the first render's values: they
        // are never used, and the values files stay short.
        let versions: Vec<&Value> = family
            .iter()
            .map(|o| o.map_or(present[0], |o| &o.value))
            .collect();
        let mut builder = TemplateBuilder {
            kind: first.kind(),
            prefix: if own_group { "" } else { first.kind() },
            group: &group,
            chart: &mut self.values,
            global,
        };
        let node = builder.unify(&mut Vec::new(), None, &versions);
        let mut text = render_template(&node);
        if family.iter().any(Option::is_none) {
            let enabled: Vec<Value> = family.iter().map(|o| json!(o.is_some())).collect();
            let name = if own_group {
                "enabled".to_string()
            } else {
                format!("{}Enabled", lower_camel(first.kind()))
            };
            let path = self.values.place(&group, &name, enabled, Style::Plain);
            text = format!(
                "{{{{- if .Values.{} }}}}\n{text}{{{{- end }}}}\n",
                path.join(".")
            );
        }
        let file = self.names.name_for(first);
        self.templates.push((file, text));
    }
}
