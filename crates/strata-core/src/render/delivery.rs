//! GitOps delivery: the Argo CD Application that syncs an environment's
//! Kustomize overlay, and the sync waves that make Argo CD apply the
//! platform in Strata's order.

use serde_json::json;

use super::{Object, labels};
use crate::model::Platform;

/// The annotation Argo CD orders a sync by.
pub(super) const SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";

/// The Application of this environment, in setup (wave 0), if the spec
/// delivers with Argo CD.
pub(super) fn render(platform: &Platform) -> Option<Object> {
    let argocd = platform.argocd.as_ref()?;
    let name = match &platform.environment {
        Some(env) => format!("{}-{env}", platform.name),
        None => platform.name.clone(),
    };
    let mut automated = json!({ "prune": argocd.prune, "selfHeal": argocd.self_heal });
    // An empty render is a mistake, never a reason to delete everything.
    automated["allowEmpty"] = json!(false);
    let mut sync_policy = json!({ "automated": automated });
    if let Some(retry) = argocd.retry {
        sync_policy["retry"] = json!({
            "limit": retry.limit,
            "backoff": {
                "duration": duration(retry.backoff_seconds),
                "factor": retry.factor,
                "maxDuration": duration(retry.max_backoff_seconds),
            },
        });
    }
    let value = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": argocd.namespace,
            "labels": labels::platform(platform),
            // Argo CD's namespace comes with Argo CD, not with the platform.
            "annotations": { crate::finding::IGNORE_ANNOTATION: "missing-namespace" },
        },
        "spec": {
            "project": argocd.project,
            "source": { "repoURL": argocd.repo, "targetRevision": argocd.revision, "path": argocd.path },
            "destination": { "server": "https://kubernetes.default.svc", "namespace": argocd.destination },
            "syncPolicy": sync_policy,
        },
    });
    Some(Object::new(0, None, None, value))
}

/// The annotation making an object an Argo CD hook.
const HOOK: &str = "argocd.argoproj.io/hook";
/// When Argo CD deletes a hook.
const HOOK_DELETE_POLICY: &str = "argocd.argoproj.io/hook-delete-policy";

/// Annotates an object with its wave, so that Argo CD applies wave after
/// wave and waits for each to be healthy, as `strata render` orders them.
///
/// The Job of the generated secrets is a `Sync` hook besides: Argo CD
/// deletes the last one and runs it anew on every sync (wave 0, before any
/// workload), so that secrets a change of the spec adds are created too.
pub(super) fn annotate_wave(object: &mut Object) {
    let hook = object.kind() == crate::kind::JOB && super::secret_job::is_part(object);
    let wave = object.wave.to_string();
    let metadata = &mut object.value["metadata"];
    if !metadata["annotations"].is_object() {
        metadata["annotations"] = json!({});
    }
    let annotations = &mut metadata["annotations"];
    annotations[SYNC_WAVE] = json!(wave);
    if hook {
        annotations[HOOK] = json!("Sync");
        annotations[HOOK_DELETE_POLICY] = json!("BeforeHookCreation");
    }
}

/// A duration as Argo CD writes it: `5s`, `3m`, `1h`.
fn duration(seconds: u64) -> String {
    match seconds {
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use crate::spec;
    use serde_json::Value;

    fn application(platform: &Platform) -> Value {
        render(platform).expect("an application").value
    }

    const SPEC: &str = "
platform: kt
namespace: kt-prod
delivery:
  argocd:
    repo: https://github.com/kt/platform
    path: deploy/kt/
    revision: main
    prune: true
    selfHeal: true
    retry: { limit: 5, backoff: 5s, factor: 2, maxBackoff: 3m }
environments:
  staging: { namespace: kt-staging }
tiers:
  - name: apps
    services:
      api: { image: kt/api:1.0.0, ports: { http: 8080 } }
";

    #[test]
    fn each_environment_syncs_its_own_overlay_into_its_namespace() {
        let file = SourceFile::new("t.yaml", SPEC);
        let doc = spec::parse(&file).unwrap();
        let staging = crate::resolve(&doc, Some("staging")).unwrap();
        let app = application(&staging);
        assert_eq!(app["metadata"]["name"], "kt-staging");
        assert_eq!(app["metadata"]["namespace"], "argocd");
        assert_eq!(
            app["spec"]["source"],
            json!({ "repoURL": "https://github.com/kt/platform", "targetRevision": "main", "path": "deploy/kt/overlays/staging" })
        );
        assert_eq!(app["spec"]["destination"]["namespace"], "kt-staging");
        assert_eq!(
            app["spec"]["syncPolicy"],
            json!({
                "automated": { "prune": true, "selfHeal": true, "allowEmpty": false },
                "retry": { "limit": 5, "backoff": { "duration": "5s", "factor": 2, "maxDuration": "3m" } },
            })
        );
        let base = crate::resolve(&doc, None).unwrap();
        let app = application(&base);
        assert_eq!(app["metadata"]["name"], "kt");
        assert_eq!(app["spec"]["source"]["path"], "deploy/kt/base");
        assert_eq!(app["spec"]["destination"]["namespace"], "kt-prod");
    }

    #[test]
    fn every_object_carries_its_wave_for_argo_cd() {
        let file = SourceFile::new("t.yaml", SPEC);
        let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
        let set = crate::render::render(&platform, &crate::render::NoAssets).unwrap();
        // The Application itself is applied once, by hand: not part of a wave.
        for object in set.objects.iter().filter(|o| o.kind() != "Application") {
            assert_eq!(
                object.value["metadata"]["annotations"][SYNC_WAVE],
                json!(object.wave.to_string()),
                "{}",
                object.key()
            );
        }
        let without = SPEC.replace("delivery:", "x-delivery:");
        let file = SourceFile::new("t.yaml", without);
        let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
        let set = crate::render::render(&platform, &crate::render::NoAssets).unwrap();
        assert!(
            set.objects
                .iter()
                .all(|o| o.value["metadata"]["annotations"][SYNC_WAVE].is_null())
        );
        assert!(set.objects.iter().all(|o| o.kind() != "Application"));
    }

    #[test]
    fn the_secret_job_is_a_sync_hook_of_wave_0() {
        let text = SPEC.replace("tiers:", "secrets:\n  api-key: { generate: [key] }\ntiers:");
        let file = SourceFile::new("t.yaml", text);
        let platform = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap();
        let set = crate::render::render(&platform, &crate::render::NoAssets).unwrap();
        for object in &set.objects {
            let annotations = &object.value["metadata"]["annotations"];
            if object.kind() == "Job" {
                assert_eq!(annotations[SYNC_WAVE], "0");
                assert_eq!(annotations[HOOK], "Sync");
                assert_eq!(annotations[HOOK_DELETE_POLICY], "BeforeHookCreation");
            } else {
                assert!(annotations[HOOK].is_null(), "{}", object.key());
            }
        }
        assert!(set.objects.iter().any(|o| o.kind() == "Job"));
    }

    #[test]
    fn a_path_outside_the_repository_is_refused() {
        let text = SPEC.replace("path: deploy/kt/", "path: ../kt");
        let file = SourceFile::new("t.yaml", text);
        let errors = crate::resolve(&spec::parse(&file).unwrap(), None).unwrap_err();
        assert_eq!(errors[0].code, "invalid-path");
    }
}
