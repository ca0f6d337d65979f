//! Turns byte images and labels into normalised tensors.
//!
//! Burn's `Batcher` trait lives behind its `dataset` feature, which brings a large dependency
//! tree (SQLite, Hugging Face loaders) that kiln's in-memory datasets do not need.
//!
//! Batching is split in two: [`HostImageBatch`] is built from bytes on any thread (so worker
//! threads can prepare batches ahead), [`HostImageBatch::to_device`] moves it onto a device.

use burn::prelude::*;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::MnistDataset;

/// A batch of images `[N, C, H, W]` and their class indices `[N]`.
#[derive(Debug, Clone)]
pub struct ImageBatch<B: Backend> {
    pub images: Tensor<B, 4>,
    pub targets: Tensor<B, 1, Int>,
}

/// A normalised batch still in host memory.
#[derive(Debug, Clone, PartialEq)]
pub struct HostImageBatch {
    pub pixels: Vec<f32>,
    pub labels: Vec<i64>,
    pub shape: [usize; 4],
}

impl HostImageBatch {
    pub fn len(&self) -> usize {
        self.shape[0]
    }

    pub fn is_empty(&self) -> bool {
        self.shape[0] == 0
    }

    pub fn to_device<B: Backend>(self, device: &B::Device) -> ImageBatch<B> {
        let n = self.shape[0];
        ImageBatch {
            images: Tensor::from_data(TensorData::new(self.pixels, self.shape), device),
            targets: Tensor::from_data(TensorData::new(self.labels, [n]), device),
        }
    }
}

/// Scales bytes to [0, 1] then standardises with the dataset's mean and standard deviation.
#[derive(Debug, Clone)]
pub struct ImageBatcher {
    pub mean: f32,
    pub std: f32,
}

impl ImageBatcher {
    /// MNIST's training-set statistics, as torchvision uses them.
    pub fn mnist() -> Self {
        Self { mean: 0.1307, std: 0.3081 }
    }

    /// The examples `indices` of `dataset`, normalised, in host memory.
    pub fn host_batch(&self, dataset: &MnistDataset, indices: &[usize]) -> HostImageBatch {
        let items: Vec<(&[u8], u8)> = indices.iter().map(|&i| (dataset.image(i), dataset.labels[i])).collect();
        self.host_items(&items, dataset.height, dataset.width)
    }

    /// Like [`Self::host_batch`], with every image translated by a random whole-pixel offset in
    /// `[-max_shift, max_shift]` on each axis (zero fill): the distortion LeCun et al. 1998 (§III.C)
    /// used to enlarge MNIST. The offsets depend only on `seed`, so a batch can be rebuilt exactly.
    pub fn host_batch_shifted(
        &self,
        dataset: &MnistDataset,
        indices: &[usize],
        max_shift: usize,
        seed: u64,
    ) -> HostImageBatch {
        let mut rng = StdRng::seed_from_u64(seed);
        let (h, w) = (dataset.height, dataset.width);
        let span = 2 * max_shift as i64 + 1;
        let shifted: Vec<Vec<u8>> = indices
            .iter()
            .map(|&i| {
                let dy = rng.random_range(0..span) - max_shift as i64;
                let dx = rng.random_range(0..span) - max_shift as i64;
                translate(dataset.image(i), h, w, dy, dx)
            })
            .collect();
        let items: Vec<(&[u8], u8)> =
            shifted.iter().zip(indices).map(|(p, &i)| (p.as_slice(), dataset.labels[i])).collect();
        self.host_items(&items, h, w)
    }

    fn host_items(&self, items: &[(&[u8], u8)], height: usize, width: usize) -> HostImageBatch {
        let pixels = items
            .iter()
            .flat_map(|(image, _)| image.iter().map(|&p| (p as f32 / 255.0 - self.mean) / self.std))
            .collect();
        let labels = items.iter().map(|(_, label)| *label as i64).collect();
        HostImageBatch { pixels, labels, shape: [items.len(), 1, height, width] }
    }
}

/// Moves an `h`×`w` image by (`dy`, `dx`) pixels; uncovered pixels become 0.
pub fn translate(image: &[u8], h: usize, w: usize, dy: i64, dx: i64) -> Vec<u8> {
    let mut out = vec![0u8; h * w];
    for y in 0..h as i64 {
        let sy = y - dy;
        if sy < 0 || sy >= h as i64 {
            continue;
        }
        for x in 0..w as i64 {
            let sx = x - dx;
            if sx >= 0 && sx < w as i64 {
                out[(y * w as i64 + x) as usize] = image[(sy * w as i64 + sx) as usize];
            }
        }
    }
    out
}
