//! Raw manifests a tier includes: parsed, kept as they are, placed in the
//! tier's manifest wave.

use super::origin::Origin;
use super::{Assets, Object};
use crate::diag::Diagnostic;
use crate::model::Platform;
use crate::source::SourceFile;
use crate::spec::yaml;

/// Every object of every tier's manifest files, with the file and line
/// it comes from.
pub(super) fn render<'a>(
    platform: &'a Platform,
    assets: &dyn Assets,
    errors: &mut Vec<Diagnostic>,
) -> Vec<(Object, Origin<'a>)> {
    let mut out = Vec::new();
    for tier in &platform.tiers {
        let wave = tier.manifest_wave.unwrap_or(1);
        for reference in &tier.manifests {
            let Some(text) = super::read_named(platform, assets, reference, errors) else {
                continue;
            };
            let file = SourceFile::named_by_spec(reference.path.clone(), text);
            match yaml::parse_all(&file) {
                Ok(documents) => {
                    for document in documents.iter().filter(|d| !d.is_null()) {
                        let value = document.to_json();
                        let valid = value["apiVersion"].is_string()
                            && value["kind"].is_string()
                            && value["metadata"]["name"].is_string();
                        if !valid {
                            errors.push(
                                Diagnostic::error("invalid-manifest", "a manifest needs `apiVersion`, `kind` and `metadata.name`")
                                    .at(&file, document.span, "not a Kubernetes object")
                                    .help("each YAML document of a manifest file is one Kubernetes object"),
                            );
                            continue;
                        }
                        let (line, _) = file.location(document.span);
                        out.push((
                            Object::new(wave, Some(&tier.name), None, value),
                            Origin::Manifest(reference, line),
                        ));
                    }
                }
                Err(diagnostic) => errors.push(diagnostic),
            }
        }
    }
    out
}
