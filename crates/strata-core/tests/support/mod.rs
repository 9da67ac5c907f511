//! What the NetworkPolicy tests share: the examples rendered with their
//! raw manifests, the policies among the objects, the pods the policies
//! are evaluated for, and the evaluator.

#![allow(dead_code)] // each test binary uses its own part

pub(crate) mod evaluator;
pub(crate) mod pods;

use std::path::{Path, PathBuf};

use serde_json::Value;
use strata_core::model::Platform;
use strata_core::render::{self, Assets, RenderedSet};
use strata_core::source::SourceFile;
use strata_core::spec;

/// Raw manifests read from an example's directory.
pub(crate) struct Directory(pub(crate) PathBuf);

impl Assets for Directory {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

/// Every example's `platform.yaml`, in order.
pub(crate) fn examples() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path().join("platform.yaml"))
        .filter(|p| p.exists())
        .collect();
    specs.sort();
    specs
}

/// The example whose path contains `name`, resolved in its base
/// environment and rendered with its raw manifests.
pub(crate) fn example(name: &str) -> (Platform, RenderedSet) {
    let path = examples()
        .into_iter()
        .find(|p| p.to_string_lossy().contains(name))
        .unwrap();
    let file = SourceFile::new(name, std::fs::read_to_string(&path).unwrap());
    let platform = strata_core::resolve(&spec::parse(&file).unwrap(), None).unwrap();
    let set = render::render(&platform, &Directory(path.parent().unwrap().to_path_buf())).unwrap();
    (platform, set)
}

/// The NetworkPolicies among the rendered objects.
pub(crate) fn network_policies(set: &RenderedSet) -> Vec<&Value> {
    set.objects
        .iter()
        .filter(|o| o.kind() == "NetworkPolicy")
        .map(|o| &o.value)
        .collect()
}
