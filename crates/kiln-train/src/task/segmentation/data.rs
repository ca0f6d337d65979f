//! The examples of a segmentation experiment: PNG folders (`[data] dataset = "png_segmentation"`,
//! `root` holding `train/` and `test/`, each with `images/` and `labels/`).

use std::path::Path;

use kiln_data::{epoch_permutation, SegmentationDataset};

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
        let order = epoch_permutation(&(0..train.len()).collect::<Vec<_>>(), cfg.experiment.seed, 0);
        let held_out = (train.len() as f64 * d.valid_fraction).round() as usize;
        let (mut valid_indices, mut train_indices) = (order[..held_out].to_vec(), order[held_out..].to_vec());
        valid_indices.sort_unstable();
        train_indices.sort_unstable();
        if train_indices.is_empty() {
            return Err(KilnError::Unsupported(format!("dataset '{}' leaves no training examples", d.root)));
        }
        let (mean, std) = pixel_statistics(&train, &train_indices);
        Ok(Self { train, test, train_indices, valid_indices, mean, std })
    }

    pub fn input_shape(&self) -> [usize; 3] {
        [1, self.train.height, self.train.width]
    }
}

/// Mean and standard deviation of `indices`' pixels, scaled to [0, 1].
fn pixel_statistics(set: &SegmentationDataset, indices: &[usize]) -> (f32, f32) {
    let (mut sum, mut squares, mut count) = (0f64, 0f64, 0f64);
    for &i in indices {
        for &p in set.image(i) {
            let x = f64::from(p) / 255.0;
            sum += x;
            squares += x * x;
            count += 1.0;
        }
    }
    let mean = sum / count;
    let std = (squares / count - mean * mean).max(0.0).sqrt().max(1e-6);
    (mean as f32, std as f32)
}
