//! Refusing a multi-process run whose ranks were started differently: another config (other
//! than `train.device`, which a rank may choose for itself), another kiln build, another run
//! directory to resume. Caught before any data is read, on every rank,
//! rather than as mismatched gradients (or a silent wrong result) later.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::processes::{broadcast_from_root, gather_flags, processes};
use crate::config::{differing_keys, ExperimentConfig};
use crate::error::{KilnError, Result};
use crate::records::{BURN_VERSION, KILN_VERSION};

/// What must be the same on every rank.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Start {
    build: String,
    resume: Option<String>,
    config: String,
}

impl Start {
    fn of(cfg: &ExperimentConfig, resume: Option<&Path>) -> Self {
        let backends = crate::backend::built_backends().join(",");
        let mut config = toml::Table::try_from(cfg).expect("a loaded config serialises");
        // Each rank may pick its own GPU (`--device cuda:$OMPI_COMM_WORLD_LOCAL_RANK`).
        if let Some(toml::Value::Table(train)) = config.get_mut("train") {
            train.remove("device");
        }
        Self {
            build: format!("kiln {KILN_VERSION} (Burn {BURN_VERSION}, backends {backends})"),
            resume: resume.map(|p| p.display().to_string()),
            config: toml::to_string(&config).expect("a table serialises"),
        }
    }

    /// How `self` differs from rank 0's `root`, in words; `None` when it does not.
    fn difference(&self, root: &Start) -> Option<String> {
        if self == root {
            return None;
        }
        let mut parts = Vec::new();
        if self.build != root.build {
            parts.push(format!("it runs {} where rank 0 runs {}", self.build, root.build));
        }
        if self.resume != root.resume {
            parts.push(format!("it resumes {:?} where rank 0 resumes {:?}", self.resume, root.resume));
        }
        if self.config != root.config {
            let table = |text: &str| toml::from_str::<toml::Table>(text).unwrap_or_default();
            let keys = differing_keys(&table(&root.config), &table(&self.config));
            parts.push(format!("its config differs from rank 0's at {}", keys.join(", ")));
        }
        Some(parts.join("; "))
    }
}

/// Checks that every rank was started with the same config, build and resume directory.
pub fn check_ranks_agree(cfg: &ExperimentConfig, resume: Option<&Path>) -> Result<()> {
    let me = processes();
    if me.size == 1 {
        return Ok(());
    }
    let timeout = Duration::from_secs_f64(cfg.ddp.timeout_seconds);
    let mine = Start::of(cfg, resume);
    let bytes = serde_json::to_vec(&mine).expect("a start serialises");
    let root_bytes = broadcast_from_root(bytes, timeout, "comparing the ranks' configs")?;
    let root: Start = serde_json::from_slice(&root_bytes)
        .map_err(|e| KilnError::RanksDisagree(format!("rank {}: rank 0 sent an unreadable start ({e})", me.rank)))?;
    let difference = mine.difference(&root);
    let flags = gather_flags(difference.is_some(), timeout, "comparing the ranks' configs")?;
    let differing: Vec<String> =
        flags.iter().enumerate().filter(|(_, &f)| f).map(|(rank, _)| rank.to_string()).collect();
    if differing.is_empty() {
        return Ok(());
    }
    let own = difference.map(|d| format!(": {d}")).unwrap_or_default();
    Err(KilnError::RanksDisagree(format!(
        "rank {} of {}: rank(s) {} were not started like rank 0 (same config, kiln build and --resume on every rank){own}; every rank refuses to train",
        me.rank,
        me.size,
        differing.join(", ")
    )))
}
