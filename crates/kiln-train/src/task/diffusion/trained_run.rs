//! A trained run that a diffusion experiment builds on (its judge, a reflow's teacher), named
//! by a path: the run itself or a folder of runs (`runs/<experiment>`, the newest finished one).

use std::path::{Path, PathBuf};

use crate::checkpoint::{self, CheckpointReader};
use crate::config::{load_experiment, ExperimentConfig};
use crate::error::{KilnError, Result};
use crate::trainer::RunPaths;

pub struct TrainedRun {
    pub dir: PathBuf,
    pub cfg: ExperimentConfig,
    pub checkpoint: CheckpointReader,
}

impl TrainedRun {
    /// Opens the run at `path` for `key` (`[sampling] judge`), whose error says what the run is
    /// for and how to train it (`purpose`).
    pub fn open(path: &Path, key: &str, purpose: &str) -> Result<Self> {
        let missing = |why: String| KilnError::Unsupported(format!("{key} = '{}': {why}. {purpose}", path.display()));
        let dir = if RunPaths::new(path).config().is_file() {
            path.to_path_buf()
        } else {
            let mut runs: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| missing(format!("cannot read it ({e})")))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| RunPaths::new(p).config().is_file())
                .collect();
            // Run folders are named by their start time, so the last is the newest.
            runs.sort();
            let finished = runs
                .into_iter()
                .rev()
                .find(|r| matches!(checkpoint::latest(&RunPaths::new(r).checkpoints()), Ok(Some(_))));
            finished.ok_or_else(|| missing("it holds no run with a checkpoint".into()))?
        };
        let paths = RunPaths::new(&dir);
        let cfg = load_experiment(&paths.config(), &[])?;
        let checkpoint = checkpoint::latest(&paths.checkpoints())?
            .ok_or_else(|| missing(format!("{} has no checkpoint", dir.display())))?;
        Ok(Self { dir, cfg, checkpoint })
    }

    /// The error for a run that is not of the kind `key` needs.
    pub fn wrong_kind(&self, key: &str, needed: &str) -> KilnError {
        KilnError::Unsupported(format!(
            "{key}: {} is a {} run on '{}', not {needed}",
            self.dir.display(),
            self.cfg.task.name,
            self.cfg.data.dataset
        ))
    }
}
