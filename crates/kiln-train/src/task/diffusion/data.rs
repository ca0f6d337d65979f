//! A diffusion experiment's data: points from CSV (`[data] dataset = "points"`).

use std::path::Path;

use kiln_data::{PointSet, Points};

use crate::config::ExperimentConfig;
use crate::error::{KilnError, Result};

/// The datasets a diffusion experiment reads.
pub const DATASETS: [&str; 1] = ["points"];

/// The splits: the validation points from `valid.csv`, else the last `valid_fraction` of the
/// training file (its rows are in no order).
pub struct DiffusionData {
    pub train: Points,
    pub valid: Option<Points>,
    pub test: Option<Points>,
}

impl DiffusionData {
    pub fn load(cfg: &ExperimentConfig) -> Result<Self> {
        let set = PointSet::load(Path::new(&cfg.data.root), cfg.data.limit)?;
        if set.train.len() < 2 {
            return Err(KilnError::Unsupported(format!(
                "'{}' holds {} training points; a diffusion model needs at least 2",
                cfg.data.root,
                set.train.len()
            )));
        }
        let (train, valid) = match set.valid {
            Some(valid) => (set.train, Some(valid)),
            None if cfg.data.valid_fraction > 0.0 => {
                let dim = set.train.dim;
                let held =
                    ((set.train.len() as f64 * cfg.data.valid_fraction).round() as usize).clamp(1, set.train.len() - 1);
                let cut = (set.train.len() - held) * dim;
                let (kept, valid) = set.train.values.split_at(cut);
                (Points { dim, values: kept.to_vec() }, Some(Points { dim, values: valid.to_vec() }))
            }
            None => (set.train, None),
        };
        Ok(Self { train, valid, test: set.test })
    }

    pub fn dim(&self) -> usize {
        self.train.dim
    }
}
