//! What a run leaves behind: per-epoch records, metrics.csv and summary.json.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::error::Result;

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
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub valid_loss: Option<f64>,
    pub valid_accuracy: Option<f64>,
    /// The `[metrics]` names on the validation split.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub valid_metrics: BTreeMap<String, f64>,
    pub samples_per_second: f64,
    pub seconds: f64,
}

const CSV_HEADER: &str = "epoch,lr,train_loss,train_accuracy,valid_loss,valid_accuracy,samples_per_second,seconds";

/// Rewrites `metrics.csv` from the whole history (so a resumed run's file equals an
/// uninterrupted one's); `[metrics]` names follow as `valid_<name>` columns.
pub fn write_metrics_csv(path: &Path, history: &[EpochRecord]) -> Result<()> {
    let opt = |v: Option<f64>| v.map(|x| format!("{x:.6}")).unwrap_or_default();
    let extra: Vec<&String> = history.last().map(|r| r.valid_metrics.keys().collect()).unwrap_or_default();
    let mut text = CSV_HEADER.to_string();
    extra.iter().for_each(|name| text += &format!(",valid_{name}"));
    text.push('\n');
    for r in history {
        text += &format!(
            "{},{:.6e},{:.6},{:.6},{},{},{:.1},{:.3}",
            r.epoch,
            r.lr,
            r.train_loss,
            r.train_accuracy,
            opt(r.valid_loss),
            opt(r.valid_accuracy),
            r.samples_per_second,
            r.seconds
        );
        extra.iter().for_each(|name| text += &format!(",{}", opt(r.valid_metrics.get(*name).copied())));
        text.push('\n');
    }
    write_atomic(path, text.as_bytes())
}

/// `summary.json`: the run's final numbers and where they came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub experiment: String,
    /// "completed", or "diverged" when a non-finite loss stopped it.
    pub status: String,
    pub model: String,
    pub parameters: usize,
    /// Keyed `<split>/<metric>`, e.g. "test/accuracy".
    pub metrics: BTreeMap<String, f64>,
    pub backend: String,
    /// Peers in total (devices per node × nodes).
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
