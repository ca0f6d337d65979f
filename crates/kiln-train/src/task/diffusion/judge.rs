//! The judge of generated digits: a kiln-trained MNIST classifier run (`[sampling] judge`).
//! Its embedding (the layer its head classifies; its logits for a classifier without one) is
//! the feature space of **MNIST-FD**, the Fréchet distance between Gaussians fitted to the
//! features of generated and of real held-out digits (Heusel et al. 2017's FID with this
//! classifier in Inception's place); its predictions say whether a class-conditional sample
//! shows the class it was drawn for.

use std::path::Path;

use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use kiln_data::{ImageBatcher, MnistDataset};
use kiln_vision::ImageClassifier;

use super::trained_run::TrainedRun;
use crate::checkpoint::CheckpointReader;
use crate::error::Result;
use crate::task::classification::model::{with_classifier, ClassifierJob};

/// Images per forward pass of the judge.
const CHUNK: usize = 500;

/// A trained classifier run: its config and newest checkpoint.
pub struct Judge {
    run: TrainedRun,
}

/// What the judge reads in a set of images: features row by row, and the predicted classes.
pub struct Reading {
    pub features: Vec<f64>,
    pub dim: usize,
    pub predicted: Vec<usize>,
}

impl Judge {
    /// The run at `path`, or the newest finished run in `path` when it holds runs
    /// (`runs/mnist-fd-classifier`).
    pub fn open(path: &Path) -> Result<Self> {
        let purpose = "MNIST-FD and the class accuracy of samples are read by a trained MNIST classifier; \
                       train it first with `kiln run experiments/mnist-fd-classifier.toml`";
        let run = TrainedRun::open(path, "[sampling] judge", purpose)?;
        if run.cfg.task.name != "classification" || run.cfg.data.dataset != "mnist" {
            return Err(run.wrong_kind("[sampling] judge", "an MNIST classifier"));
        }
        Ok(Self { run })
    }

    /// Reads `n` images `[n, C, H, W]` with values in [−1, 1] (the diffusion model's range).
    pub fn read<B: AutodiffBackend>(&self, images: &[f32], shape: [usize; 4], device: &B::Device) -> Result<Reading> {
        let job = ReadImages::<B> { checkpoint: &self.run.checkpoint, images, shape, device };
        let model = &self.run.cfg.model;
        with_classifier::<B, _>(&model.name, &model.params, &self.run.cfg.loss, device, job)?
    }

    /// Reads the digits `indices` of `dataset`.
    pub fn read_dataset<B: AutodiffBackend>(
        &self,
        dataset: &MnistDataset,
        indices: &[usize],
        device: &B::Device,
    ) -> Result<Reading> {
        let images = super::data::ImageData::pixels(dataset, indices);
        self.read::<B>(&images, [indices.len(), 1, dataset.height, dataset.width], device)
    }
}

struct ReadImages<'a, B: AutodiffBackend> {
    checkpoint: &'a CheckpointReader,
    images: &'a [f32],
    shape: [usize; 4],
    device: &'a B::Device,
}

impl<B: AutodiffBackend> ClassifierJob<B> for ReadImages<'_, B> {
    type Output = Result<Reading>;
    fn run<M>(self, model: M) -> Result<Reading>
    where
        M: AutodiffModule<B> + ImageClassifier<B> + 'static,
        M::InnerModule: ImageClassifier<B::InnerBackend>,
    {
        let model = self.checkpoint.module("model", model)?.valid();
        // The classifier was trained on pixels in [0, 1] standardised with MNIST's statistics.
        let batcher = ImageBatcher::mnist();
        let [n, c, h, w] = self.shape;
        let per_image = c * h * w;
        let mut reading = Reading { features: Vec::new(), dim: 0, predicted: Vec::with_capacity(n) };
        for start in (0..n).step_by(CHUNK) {
            let rows = CHUNK.min(n - start);
            let pixels: Vec<f32> = self.images[start * per_image..(start + rows) * per_image]
                .iter()
                .map(|&x| (((x + 1.0) / 2.0).clamp(0.0, 1.0) - batcher.mean) / batcher.std)
                .collect();
            let x = Tensor::<B::InnerBackend, 4>::from_data(TensorData::new(pixels, [rows, c, h, w]), self.device);
            let logits = model.logits(x.clone());
            let features = model.embeddings(x).unwrap_or_else(|| logits.clone());
            reading.dim = features.dims()[1];
            let predicted: Vec<i64> =
                logits.argmax(1).flatten::<1>(0, 1).into_data().convert::<i64>().to_vec().expect("class indices");
            reading.predicted.extend(predicted.into_iter().map(|p| p as usize));
            let values: Vec<f64> = features.into_data().convert::<f64>().to_vec().expect("float features");
            reading.features.extend(values);
        }
        Ok(reading)
    }
}

/// The mean Euclidean distance between the features of two samples of the same class (of all
/// samples when `classes` is `None`): how varied the samples are in the judge's eyes.
pub fn diversity(features: &[f64], dim: usize, classes: Option<&[usize]>) -> f64 {
    let n = features.len() / dim;
    let row = |i: usize| &features[i * dim..(i + 1) * dim];
    let (mut total, mut pairs) = (0.0, 0usize);
    for i in 0..n {
        for j in i + 1..n {
            if classes.is_some_and(|c| c[i] != c[j]) {
                continue;
            }
            total += row(i).iter().zip(row(j)).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
            pairs += 1;
        }
    }
    if pairs == 0 {
        0.0
    } else {
        total / pairs as f64
    }
}

#[cfg(test)]
mod tests {
    use super::diversity;

    #[test]
    fn diversity_averages_distances_within_each_class() {
        // Class 0: (0,0) and (3,4), distance 5; class 1: (1,1) and (1,2), distance 1.
        let features = [0.0, 0.0, 1.0, 1.0, 3.0, 4.0, 1.0, 2.0];
        assert!((diversity(&features, 2, Some(&[0, 1, 0, 1])) - 3.0).abs() < 1e-12);
        // Without classes: all six pairs.
        let all = (5.0 + 2f64.sqrt() + 5f64.sqrt() + 13f64.sqrt() + 1.0 + 8f64.sqrt()) / 6.0;
        assert!((diversity(&features, 2, None) - all).abs() < 1e-12);
    }
}
