//! `kiln reproduce`: a run's metric next to the paper's figure, with a verdict.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{load_experiment, run_config_changes, ReproduceSection};
use crate::error::{KilnError, Result};
use crate::records::RunSummary;

/// Keys a baseline run may differ in from its experiment file: how often it logged and saved,
/// how many loader threads it had. Anything else (the epochs, the learning rate, the backend)
/// makes it another experiment's figure.
const BASELINE_INDIFFERENT: [&str; 4] =
    ["train.checkpoint_every", "train.log_every", "data.num_workers", "train.device"];

/// The summaries of the baseline runs claims compare with, keyed by the `baseline` they name.
pub type Baselines = BTreeMap<String, RunSummary>;

/// One row of the reproduction table.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub metric: String,
    pub paper: f64,
    /// The value the verdict compares against (`expected`, else `paper`).
    pub target: f64,
    pub kiln: f64,
    pub tolerance: f64,
    pub pass: bool,
    pub source: String,
}

/// Compares `summary` against `spec`: higher-is-better metrics pass at `kiln ≥ target − tolerance`,
/// others at `kiln ≤ target + tolerance`.
///
/// ```
/// use kiln_train::config::ReproduceSection;
/// let spec = ReproduceSection { metric: "test/accuracy".into(), paper: 0.9905, expected: Some(0.985),
///     tolerance: 0.005, higher_is_better: true, versus: None, baseline: None, source: "LeCun et al. 1998".into(),
///     also: Default::default() };
/// assert!(kiln_train::reproduce::judge(&spec, 0.981).pass);
/// assert!(!kiln_train::reproduce::judge(&spec, 0.979).pass);
/// ```
pub fn judge(spec: &ReproduceSection, kiln: f64) -> Verdict {
    let target = spec.expected.unwrap_or(spec.paper);
    let pass = if spec.higher_is_better { kiln >= target - spec.tolerance } else { kiln <= target + spec.tolerance };
    Verdict {
        metric: spec.metric.clone(),
        paper: spec.paper,
        target,
        kiln,
        tolerance: spec.tolerance,
        pass,
        source: spec.source.clone(),
    }
}

/// The verdict of `spec` and of each of its `also` claims, in that order (the `also` claims'
/// rows named `<name>: <metric>`).
pub fn judge_all(spec: &ReproduceSection, summary: &RunSummary, baselines: &Baselines) -> Result<Vec<Verdict>> {
    let mut verdicts = vec![judge_summary(spec, summary, baselines)?];
    for (name, claim) in &spec.also {
        let mut verdict = judge_summary(claim, summary, baselines)?;
        verdict.metric = format!("{name}: {}", verdict.metric);
        verdicts.push(verdict);
    }
    Ok(verdicts)
}

/// Looks the metric up in a finished run's summary.
/// With `versus`, the verdict is on the ratio of the two figures; with `baseline` too, the
/// `versus` figure is the baseline run's (from `baselines`).
pub fn judge_summary(spec: &ReproduceSection, summary: &RunSummary, baselines: &Baselines) -> Result<Verdict> {
    let figure = |run: &RunSummary, name: &str| {
        run.metrics.get(name).copied().ok_or_else(|| {
            let known: Vec<&str> = run.metrics.keys().map(String::as_str).collect();
            KilnError::Unsupported(format!(
                "[reproduce] metric '{name}' is not in the metrics of {} ({})",
                run.run_dir,
                known.join(", ")
            ))
        })
    };
    let kiln = figure(summary, &spec.metric)?;
    let Some(versus) = &spec.versus else { return Ok(judge(spec, kiln)) };
    let (other, label) = match &spec.baseline {
        None => (summary, versus.clone()),
        Some(baseline) => {
            let run = baselines.get(baseline).ok_or_else(|| {
                KilnError::Unsupported(format!("[reproduce] baseline '{baseline}' has no run to compare with"))
            })?;
            (run, format!("{}:{versus}", baseline.trim_end_matches(".toml")))
        }
    };
    let mut verdict = judge(spec, kiln / figure(other, versus)?);
    verdict.metric = format!("{} / {label}", spec.metric);
    Ok(verdict)
}

/// Finds, for every claim of `spec` that names a `baseline`, that experiment's newest completed
/// run: the newest directory under its `output_dir/name` whose summary.json says "completed"
/// and whose config.toml is the baseline file's (up to [`BASELINE_INDIFFERENT`] and
/// [reproduce]). `experiment` is the path of the file `spec` came from.
pub fn baseline_runs(spec: &ReproduceSection, experiment: &Path) -> Result<Baselines> {
    let mut found = Baselines::new();
    let claims = std::iter::once(spec).chain(spec.also.values());
    for claim in claims {
        let Some(baseline) = &claim.baseline else { continue };
        if claim.versus.is_none() {
            return Err(KilnError::Unsupported(format!(
                "[reproduce] baseline = \"{baseline}\" needs versus: the baseline run's figure the claim divides by"
            )));
        }
        if found.contains_key(baseline) {
            continue;
        }
        let path = experiment.parent().unwrap_or(Path::new(".")).join(baseline);
        let cfg = load_experiment(&path, &[])?;
        let parent = Path::new(&cfg.experiment.output_dir).join(&cfg.experiment.name);
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&parent)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        dirs.sort();
        let matching = dirs.iter().rev().find_map(|dir| {
            let summary: RunSummary =
                serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).ok()?).ok()?;
            let same = run_config_changes(&dir.join("config.toml"), &cfg, &BASELINE_INDIFFERENT).ok()?.is_empty();
            (summary.status == "completed" && same).then_some(summary)
        });
        let summary = matching.ok_or_else(|| {
            KilnError::Unsupported(format!(
                "a claim compares with the baseline {}, which has no completed run of that config under {}; run `kiln reproduce {}` first",
                path.display(),
                parent.display(),
                path.display()
            ))
        })?;
        found.insert(baseline.clone(), summary);
    }
    Ok(found)
}
