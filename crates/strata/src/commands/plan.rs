//! `strata plan`: waves, critical path, totals and fit.

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table, presets};
use strata_core::plan::{Plan, Totals};
use strata_core::quantity::Measure;

use super::load;
use crate::cli::{PlanFormat, SpecArgs};
use crate::exit::{Exit, ExitStatus};
use crate::printer::Printer;

pub(super) fn run(
    args: &SpecArgs,
    format: PlanFormat,
    printer: &Printer,
) -> Result<ExitStatus, Exit> {
    let (_, platform) = load(&args.file, args.env.as_deref(), printer)?;
    let plan = Plan::new(&platform);
    // What must exist before `apply` is part of the plan. Plan reads the
    // spec alone, never the files it names: the pull secrets of a spec
    // that names files are `render`'s to list.
    if !platform.registries.is_empty() {
        // Through `check`: the pull secrets, without holding the objects.
        match strata_core::render::check(&platform, &strata_core::render::NoAssets) {
            Ok(checked) => super::render::note_pull_secrets(&checked.pull_secrets, printer),
            Err(_) => printer.note(
                "`strata render` lists the registry pull secrets to create: this spec names files, which plan does not read",
            ),
        }
    }
    match format {
        PlanFormat::Json => printer.out(&format!("{}\n", serde_json::to_string_pretty(&plan)?)),
        PlanFormat::Table => printer.out(&render(&plan)),
    }
    Ok(if plan.fits() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// A table; `wrap` limits it to 110 columns, wrapping long cells.
fn table(header: &[&str], wrap: bool) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_header(header.iter().map(Cell::new));
    if wrap {
        table
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(110);
    }
    table
}

fn totals_row(name: &str, namespace: &str, t: &Totals) -> Vec<Cell> {
    let pair = |a: strata_core::quantity::Quantity,
                b: strata_core::quantity::Quantity,
                m: Measure| { format!("{} / {}", a.display(m), b.display(m)) };
    let right = |s: String| Cell::new(s).set_alignment(CellAlignment::Right);
    vec![
        Cell::new(name),
        Cell::new(namespace),
        right(t.services.to_string()),
        right(t.pods.to_string()),
        right(pair(t.cpu_requests, t.cpu_limits, Measure::Cpu)),
        right(pair(t.memory_requests, t.memory_limits, Measure::Bytes)),
        right(t.gpu.to_string()),
        right(t.storage.display(Measure::Bytes).to_string()),
        right(t.pvcs.to_string()),
    ]
}

/// The plan as text tables.
pub(super) fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let env = plan
        .environment
        .as_deref()
        .map_or(String::new(), |e| format!(" in environment `{e}`"));
    out.push_str(&format!(
        "Plan for `{}`{env}: {} services, {} waves\n\nWaves\n",
        plan.platform,
        plan.total.services,
        plan.waves.len()
    ));
    let mut waves = table(&["Wave", "Tier", "Services (×replicas)"], true);
    for wave in &plan.waves {
        let mut tiers: Vec<&str> = wave.manifests.iter().map(String::as_str).collect();
        for entry in &wave.services {
            if !tiers.contains(&entry.tier.as_str()) {
                tiers.push(&entry.tier);
            }
        }
        for (i, tier) in tiers.iter().enumerate() {
            let manifests = wave
                .manifests
                .iter()
                .any(|m| m == tier)
                .then(|| "(raw manifests)".to_string());
            let names: Vec<String> = manifests
                .into_iter()
                .chain(wave.services.iter().filter(|e| e.tier == *tier).map(|e| {
                    if e.replicas == 1 {
                        e.name.clone()
                    } else {
                        format!("{}×{}", e.name, e.replicas)
                    }
                }))
                .collect();
            let number = if i == 0 {
                wave.wave.to_string()
            } else {
                String::new()
            };
            waves.add_row(vec![
                Cell::new(number),
                Cell::new(tier),
                Cell::new(names.join(", ")),
            ]);
        }
    }
    out.push_str(&format!("{waves}\n\n"));
    out.push_str(&format!(
        "Critical path ({} steps): {}\n\n",
        plan.critical_path.len(),
        plan.critical_path.join(" → ")
    ));
    match plan.calls_without_timeout.len() {
        _ if plan.calls == 0 => {}
        0 => out.push_str(&format!("Calls: {}, each with a timeout\n\n", plan.calls)),
        n => out.push_str(&format!(
            "Calls without a timeout ({n} of {}; set `defaults.calls.timeout`): {}\n\n",
            plan.calls,
            plan.calls_without_timeout.join(", ")
        )),
    }
    if !plan.calls_without_waiting.is_empty() {
        out.push_str(&format!(
            "Calls not waited for at start-up ({}): {}\n\n",
            plan.calls_without_waiting.len(),
            plan.calls_without_waiting.join(", ")
        ));
    }
    if !plan.backups.is_empty() {
        out.push_str("Backups\n");
        let mut backups = table(&["Service", "Schedule", "Kept", "To"], true);
        for b in &plan.backups {
            backups.add_row(vec![
                Cell::new(&b.service),
                Cell::new(&b.schedule),
                Cell::new(format!("{} days", b.keep_days)),
                Cell::new(&b.to),
            ]);
        }
        out.push_str(&format!("{backups}\n\n"));
    }
    if !plan.externals.is_empty() {
        out.push_str("Externals (running already, not waited for)\n");
        let mut externals = table(&["External", "Reached at", "Ports", "Callers"], true);
        for e in &plan.externals {
            externals.add_row(vec![
                Cell::new(&e.name),
                Cell::new(&e.reach),
                Cell::new(e.ports.join(", ")),
                Cell::new(e.callers.join(", ")),
            ]);
        }
        out.push_str(&format!("{externals}\n\n"));
    }
    out.push_str("Resources (replicas counted; requests / limits)\n");
    let mut resources = table(
        &[
            "Tier",
            "Namespace",
            "Services",
            "Pods",
            "CPU",
            "Memory",
            "GPU",
            "Storage",
            "PVCs",
        ],
        false,
    );
    for tier in &plan.tiers {
        resources.add_row(totals_row(&tier.tier, &tier.namespace, &tier.totals));
    }
    resources.add_row(totals_row("total", "", &plan.total));
    out.push_str(&format!("{resources}\n"));
    if !plan.fit.is_empty() {
        out.push_str("\nFit\n");
        let mut fit = table(&["Scope", "Resource", "Requested", "Available", ""], false);
        for check in &plan.fit {
            fit.add_row(vec![
                Cell::new(&check.scope),
                Cell::new(check.resource),
                Cell::new(&check.requested).set_alignment(CellAlignment::Right),
                Cell::new(&check.available).set_alignment(CellAlignment::Right),
                Cell::new(if check.fits {
                    "fits"
                } else if check.warning {
                    "only after scaling up"
                } else {
                    "DOES NOT FIT"
                }),
            ]);
        }
        out.push_str(&format!("{fit}\n"));
        if !plan.fits() {
            out.push_str("\nThe platform does not fit: raise the budgets or node pools above, or lower requests.\n");
        }
    }
    out
}
