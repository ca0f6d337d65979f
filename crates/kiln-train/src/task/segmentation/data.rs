//! The examples of a segmentation experiment: PNG folders (`[data] dataset = "png_segmentation"`,
//! `root` holding `train/` and `test/`, each with `images/` and `labels/`).

use std::path::Path;

use kiln_data::{grey_statistics, random_split, SegmentationDataset};

use crate::config::ExperimentConfig;
use crate::error::{KilnError, Result};

/// Datasets `[data] dataset` can name for segmentation.
pub const DATASETS: [&str; 1] = ["png_segmentation"];

/// Train, validation and test examples, with the training images' pixel statistics.
pub struct SegmentationData {
    pub train: SegmentationDataset,
    pub test: SegmentationDataset,
    pub train_indices: Vec<usize>,
    pub valid_indices: Vec<usize>,
    /// Mean and standard deviation of the training pixels scaled to [0, 1]: inputs are
    /// standardised with them, as torchvision's `Normalize` with a dataset's statistics.
    pub mean: f32,
    pub std: f32,
}

impl SegmentationData {
    /// Reads `[data] root`; every label must be below `classes` or be the ignore index.
    pub fn load(cfg: &ExperimentConfig, classes: usize, ignore_index: Option<usize>) -> Result<Self> {
        let d = &cfg.data;
        let root = Path::new(&d.root);
        let train = SegmentationDataset::load(root, "train", d.limit)?;
        let test = SegmentationDataset::load(root, "test", d.limit)?;
        for (split, set) in [("train", &train), ("test", &test)] {
            let too_high =
                set.labels.iter().copied().find(|&l| usize::from(l) >= classes && Some(usize::from(l)) != ignore_index);
            if let Some(label) = too_high {
                return Err(KilnError::Unsupported(format!(
                    "the {split} label maps in '{}' hold class {label} but [model] num_classes is {classes} (ignore_index {}); raise num_classes or fix the labels",
                    d.root,
                    ignore_index.map(|i| i.to_string()).unwrap_or_else(|| "none".into())
                )));
            }
        }
        if train.height != test.height || train.width != test.width {
            return Err(KilnError::Unsupported(format!(
                "train images are {}×{} but test images {}×{} in '{}'",
                train.height, train.width, test.height, test.width, d.root
            )));
        }
        // A seeded random hold-out (there is no one class per example to stratify by).
        let (train_indices, valid_indices) = random_split(train.len(), d.valid_fraction, cfg.experiment.seed);
        if train_indices.is_empty() {
            return Err(KilnError::Unsupported(format!("dataset '{}' leaves no training examples", d.root)));
        }
        let (mean, std) = grey_statistics(train_indices.iter().map(|&i| train.image(i)));
        Ok(Self { train, test, train_indices, valid_indices, mean, std })
    }

    pub fn input_shape(&self) -> [usize; 3] {
        [1, self.train.height, self.train.width]
    }
}
