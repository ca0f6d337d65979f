//! `kiln reproduce`: a run's metric next to the paper's figure, with a verdict.

use crate::config::ReproduceSection;
use crate::error::{KilnError, Result};
use crate::records::RunSummary;

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
///     tolerance: 0.005, higher_is_better: true, versus: None, source: "LeCun et al. 1998".into(),
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
pub fn judge_all(spec: &ReproduceSection, summary: &RunSummary) -> Result<Vec<Verdict>> {
    let mut verdicts = vec![judge_summary(spec, summary)?];
    for (name, claim) in &spec.also {
        let mut verdict = judge_summary(claim, summary)?;
        verdict.metric = format!("{name}: {}", verdict.metric);
        verdicts.push(verdict);
    }
    Ok(verdicts)
}

/// Looks the metric up in a finished run's summary.
/// With `versus`, the verdict is on the ratio of the two figures.
pub fn judge_summary(spec: &ReproduceSection, summary: &RunSummary) -> Result<Verdict> {
    let figure = |name: &str| {
        summary.metrics.get(name).copied().ok_or_else(|| {
            let known: Vec<&str> = summary.metrics.keys().map(String::as_str).collect();
            KilnError::Unsupported(format!(
                "[reproduce] metric '{name}' is not in the run's metrics ({})",
                known.join(", ")
            ))
        })
    };
    let kiln = figure(&spec.metric)?;
    let Some(versus) = &spec.versus else { return Ok(judge(spec, kiln)) };
    let mut verdict = judge(spec, kiln / figure(versus)?);
    verdict.metric = format!("{} / {versus}", spec.metric);
    Ok(verdict)
}
