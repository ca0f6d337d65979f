//! A diffusion experiment's data: points from CSV (`[data] dataset = "points"`) or digits in
//! IDX files (`dataset = "mnist"`).

use std::path::Path;

use kiln_data::{stratified_split, MnistDataset, MnistSplit, PointSet, Points};

use super::guide::GuidanceClassifier;
use super::judge::Judge;
use super::reflow::{StudentData, Teacher};
use crate::config::ExperimentConfig;
use crate::error::{KilnError, Result};

/// The datasets a diffusion experiment reads.
pub const DATASETS: [&str; 2] = ["points", "mnist"];

pub enum DiffusionData {
    Points(PointData),
    Images(ImageData),
}

/// The splits: the validation points from `valid.csv`, else the last `valid_fraction` of the
/// training file (its rows are in no order).
pub struct PointData {
    pub train: Points,
    pub valid: Option<Points>,
    pub test: Option<Points>,
    /// A reflow's teacher (`[loss] reflow`), opened with the data so that a missing one stops
    /// the run before it starts.
    pub teacher: Option<Teacher>,
}

/// Digits and their classes; validation digits are a stratified share of the training file.
pub struct ImageData {
    pub train: MnistDataset,
    pub train_indices: Vec<usize>,
    pub valid_indices: Vec<usize>,
    pub test: MnistDataset,
    /// The judge of `[sampling] judge`, opened with the data.
    pub judge: Option<Judge>,
    /// The classifier of `[sampling] classifier` (classifier guidance), opened with the data.
    pub classifier: Option<GuidanceClassifier>,
    /// A reflow's teacher (`[loss] reflow`), opened with the data.
    pub teacher: Option<Teacher>,
}

impl DiffusionData {
    pub fn load(cfg: &ExperimentConfig) -> Result<Self> {
        match cfg.data.dataset.as_str() {
            "mnist" => ImageData::load(cfg).map(Self::Images),
            _ => PointData::load(cfg).map(Self::Points),
        }
    }
}

impl ImageData {
    pub fn load(cfg: &ExperimentConfig) -> Result<Self> {
        let d = &cfg.data;
        let root = Path::new(&d.root);
        let train = MnistDataset::load(root, MnistSplit::Train, d.limit)?;
        let test = MnistDataset::load(root, MnistSplit::Test, d.limit)?;
        let (train_indices, valid_indices) = if d.valid_fraction > 0.0 {
            stratified_split(&train.labels, d.valid_fraction, cfg.experiment.seed)
        } else {
            ((0..train.len()).collect(), Vec::new())
        };
        if train_indices.len() < 2 || test.len() < 2 {
            return Err(KilnError::Unsupported(format!(
                "'{}' leaves {} training and {} test digits; a diffusion model needs at least 2 of each",
                d.root,
                train_indices.len(),
                test.len()
            )));
        }
        let judge =
            cfg.sampling.as_ref().and_then(|s| s.judge.as_ref()).map(|p| Judge::open(Path::new(p))).transpose()?;
        let classifier = cfg
            .sampling
            .as_ref()
            .and_then(|s| s.classifier.as_ref())
            .map(|p| GuidanceClassifier::open(Path::new(p)))
            .transpose()?;
        let reflow = cfg.loss.params.get("reflow").and_then(|v| v.as_str());
        let shape = [1, train.height, train.width];
        let teacher = reflow.map(|p| Teacher::open(Path::new(p), StudentData::Images(shape))).transpose()?;
        Ok(Self { train, train_indices, valid_indices, test, judge, classifier, teacher })
    }

    /// The digits of `split`: (dataset, indices); none for an empty validation split.
    pub fn split(&self, split: crate::task::Split) -> Option<(&MnistDataset, Vec<usize>)> {
        use crate::task::Split;
        match split {
            Split::Train => Some((&self.train, self.train_indices.clone())),
            Split::Valid if self.valid_indices.is_empty() => None,
            Split::Valid => Some((&self.train, self.valid_indices.clone())),
            Split::Test => Some((&self.test, (0..self.test.len()).collect())),
        }
    }

    /// The digits `indices` of `dataset` scaled to the models' range [−1, 1], image after image.
    pub fn pixels(dataset: &MnistDataset, indices: &[usize]) -> Vec<f32> {
        indices.iter().flat_map(|&i| dataset.image(i).iter().map(|&p| f32::from(p) / 127.5 - 1.0)).collect()
    }

    /// `[C, H, W]` of one image.
    pub fn shape(&self) -> [usize; 3] {
        [1, self.train.height, self.train.width]
    }
}

impl PointData {
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
        let reflow = cfg.loss.params.get("reflow").and_then(|v| v.as_str());
        let teacher = reflow.map(|p| Teacher::open(Path::new(p), StudentData::Points(train.dim))).transpose()?;
        Ok(Self { train, valid, test: set.test, teacher })
    }

    pub fn dim(&self) -> usize {
        self.train.dim
    }
}
