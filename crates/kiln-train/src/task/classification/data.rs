//! The examples of an image-classification experiment: train, validation and test.

use kiln_data::{stratified_split, ImageBatcher, MnistDataset, MnistSplit};

use crate::config::{closest, ExperimentConfig};
use crate::error::{KilnError, Result};

/// Datasets `[data] dataset` can name for classification.
pub const DATASETS: [&str; 1] = ["mnist"];

/// Train, validation and test examples of an experiment.
pub struct ClassificationData {
    pub train: MnistDataset,
    pub test: MnistDataset,
    pub train_indices: Vec<usize>,
    pub valid_indices: Vec<usize>,
    pub batcher: ImageBatcher,
}

/// Says what is wrong with `[data] dataset`, if anything.
pub fn check_dataset(name: &str) -> std::result::Result<(), String> {
    if DATASETS.contains(&name) {
        return Ok(());
    }
    let hint = closest(name, DATASETS).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
    Err(format!("unknown dataset '{name}' in [data] for classification (known: {}){hint}", DATASETS.join(", ")))
}

impl ClassificationData {
    /// `[C, H, W]` of one image as the model receives it.
    pub fn input_shape(&self) -> [usize; 3] {
        [1, self.train.height, self.train.width]
    }

    pub fn load(cfg: &ExperimentConfig) -> Result<Self> {
        let d = &cfg.data;
        check_dataset(&d.dataset).map_err(KilnError::Unsupported)?;
        let root = std::path::Path::new(&d.root);
        let train = MnistDataset::load(root, MnistSplit::Train, d.limit)?;
        let test = MnistDataset::load(root, MnistSplit::Test, d.limit)?;
        let (train_indices, valid_indices) = if d.valid_fraction > 0.0 {
            stratified_split(&train.labels, d.valid_fraction, cfg.experiment.seed)
        } else {
            ((0..train.len()).collect(), Vec::new())
        };
        if train_indices.is_empty() || test.is_empty() {
            return Err(KilnError::Unsupported(format!("dataset '{}' leaves no training or test examples", d.root)));
        }
        Ok(Self { train, test, train_indices, valid_indices, batcher: ImageBatcher::mnist() })
    }
}
