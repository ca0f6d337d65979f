//! The canvases of a detection experiment: a COCO-format folder (`[data] dataset =
//! "coco_detection"`, `root` holding `train/`, `test/` and `annotations/instances_{train,test}.json`,
//! the layout of COCO 2017 and of `datasets/mnist-det`).

use std::path::Path;

use kiln_data::{grey_statistics, random_split, CocoDetectionDataset};
use kiln_vision::detection::LabelledBox;

use crate::config::ExperimentConfig;
use crate::error::{KilnError, Result};

/// Datasets `[data] dataset` can name for detection.
pub const DATASETS: [&str; 1] = ["coco_detection"];

/// Train, validation and test canvases, with the training pixels' statistics.
pub struct DetectionData {
    pub train: CocoDetectionDataset,
    pub test: CocoDetectionDataset,
    pub train_indices: Vec<usize>,
    pub valid_indices: Vec<usize>,
    /// Mean and standard deviation of the training pixels scaled to [0, 1].
    pub mean: f32,
    pub std: f32,
}

impl DetectionData {
    /// Reads `[data] root`; the annotations must name `classes` categories, the same in both splits.
    pub fn load(cfg: &ExperimentConfig, classes: usize) -> Result<Self> {
        let d = &cfg.data;
        let root = Path::new(&d.root);
        let split = |name: &str| {
            let annotations = root.join("annotations").join(format!("instances_{name}.json"));
            CocoDetectionDataset::load(&root.join(name), &annotations, d.limit)
        };
        let (train, test) = (split("train")?, split("test")?);
        if train.categories != test.categories {
            return Err(KilnError::Unsupported(format!(
                "the train and test annotations in '{}' list different categories",
                d.root
            )));
        }
        if train.classes() != classes {
            return Err(KilnError::Unsupported(format!(
                "the annotations in '{}' list {} categories but [model] num_classes is {classes}",
                d.root,
                train.classes()
            )));
        }
        if (train.height, train.width) != (test.height, test.width) {
            return Err(KilnError::Unsupported(format!(
                "train canvases are {}×{} but test canvases {}×{} in '{}'",
                train.width, train.height, test.width, test.height, d.root
            )));
        }
        let (train_indices, valid_indices) = random_split(train.len(), d.valid_fraction, cfg.experiment.seed);
        if train_indices.is_empty() {
            return Err(KilnError::Unsupported(format!("dataset '{}' leaves no training canvases", d.root)));
        }
        let (mean, std) = grey_statistics(train_indices.iter().map(|&i| train.image(i)));
        Ok(Self { train, test, train_indices, valid_indices, mean, std })
    }

    pub fn input_shape(&self) -> [usize; 3] {
        [1, self.train.height, self.train.width]
    }
}

/// The non-crowd objects of canvas `i` as `[x1, y1, x2, y2]` boxes.
pub fn labelled_boxes(set: &CocoDetectionDataset, i: usize) -> Vec<LabelledBox> {
    set.objects[i]
        .iter()
        .filter(|o| !o.iscrowd)
        .map(|o| {
            let [x, y, w, h] = o.bbox;
            LabelledBox { bbox: [x, y, x + w, y + h], class: o.class }
        })
        .collect()
}
