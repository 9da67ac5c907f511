//! The five seed platforms as examples: each plans in every environment, and
//! its plan is the one reviewed (a snapshot per example and environment), so
//! a change to waves, replicas or totals shows up in review.

mod support;

use support::{example_name, examples, strata};

#[test]
fn every_example_plan_matches_its_snapshot() {
    let all = examples();
    assert!(all.len() >= 5, "the five seed platforms are examples");
    for (spec, env) in all {
        let mut args = vec!["plan", spec.as_str()];
        if let Some(env) = &env {
            args.extend(["--env", env]);
        }
        let output = strata().args(&args).output().unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        // A plan that does not fit exits 1 with the plan printed; either
        // way the plan is what is reviewed.
        assert!(
            !stdout.is_empty(),
            "{spec} {env:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let name = format!(
            "plan-{}-{}",
            example_name(&spec),
            env.as_deref().unwrap_or("base")
        );
        insta::assert_snapshot!(name, stdout);
    }
}

#[test]
fn every_seed_platform_is_an_example() {
    let names: Vec<String> = examples().iter().map(|(s, _)| example_name(s)).collect();
    for seed in [
        "isa-cloud",
        "nova",
        "voice-assistant",
        "knowton",
        "one-data-studio",
    ] {
        assert!(names.iter().any(|n| n == seed), "no example for {seed}");
    }
}
