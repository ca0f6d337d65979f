//! What a run leaves behind: per-epoch records, metrics.csv and summary.json.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::error::Result;
use crate::figures::Figures;

/// Burn is pinned exactly in the workspace manifest, so its version is a constant.
pub const BURN_VERSION: &str = "0.21.0";
pub const KILN_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One finished epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based.
    pub epoch: usize,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
    /// The task's training figures over the epoch (`loss`, `accuracy`, `d_loss`, …).
    pub train: Figures,
    /// The validation figures after the epoch; empty without a validation split.
    #[serde(default)]
    pub valid: Figures,
    pub samples_per_second: f64,
    pub seconds: f64,
}

impl EpochRecord {
    /// The figures keyed by CSV column: `train_loss`, `valid_mean_iou`, ….
    fn columns(&self) -> BTreeMap<String, f64> {
        let train = self.train.iter().map(|(n, v)| (format!("train_{n}"), *v));
        train.chain(self.valid.iter().map(|(n, v)| (format!("valid_{n}"), *v))).collect()
    }
}

/// Rewrites `metrics.csv` from the whole history (so a resumed run's file equals an
/// uninterrupted one's): `epoch`, `lr`, one column per figure (the sorted union of the names
/// over all epochs, prefixed `train_`/`valid_`), `samples_per_second`, `seconds`.
pub fn write_metrics_csv(path: &Path, history: &[EpochRecord]) -> Result<()> {
    let rows: Vec<BTreeMap<String, f64>> = history.iter().map(EpochRecord::columns).collect();
    let names: BTreeSet<&String> = rows.iter().flat_map(|r| r.keys()).collect();
    let mut text = String::from("epoch,lr");
    names.iter().for_each(|name| text += &format!(",{name}"));
    text += ",samples_per_second,seconds\n";
    for (r, columns) in history.iter().zip(&rows) {
        text += &format!("{},{:.6e}", r.epoch, r.lr);
        for name in &names {
            text += &columns.get(*name).map(|v| format!(",{v:.6}")).unwrap_or_else(|| ",".into());
        }
        text += &format!(",{:.1},{:.3}\n", r.samples_per_second, r.seconds);
    }
    write_atomic(path, text.as_bytes())
}

/// `summary.json`: the run's final numbers and where they came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub experiment: String,
    /// The `[task] name`.
    #[serde(default)]
    pub task: String,
    /// "completed", or "diverged" when a non-finite figure stopped it.
    pub status: String,
    pub model: String,
    pub parameters: usize,
    /// Keyed `<split>/<figure>`, e.g. "test/accuracy", "test/mean_iou", "model/receptive_field".
    pub metrics: BTreeMap<String, f64>,
    pub backend: String,
    /// Peers in total (devices per process × processes).
    pub devices: usize,
    pub strategy: String,
    pub epochs_completed: usize,
    pub wall_seconds: f64,
    /// Training examples per second over all epochs.
    pub samples_per_second: f64,
    pub seed: u64,
    pub kiln_version: String,
    pub burn_version: String,
    pub run_dir: String,
}

impl RunSummary {
    pub fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("summary serialises");
        write_atomic(path, json.as_bytes())
    }
}

/// `figures` keyed `<split>/<name>` for summary.json.
pub fn keyed<'a>(split: &str, figures: &'a Figures) -> impl Iterator<Item = (String, f64)> + 'a {
    let split = split.to_string();
    figures.iter().map(move |(name, v)| (format!("{split}/{name}"), *v))
}
