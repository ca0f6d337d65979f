//! Image classification: data from the config, cross-entropy, accuracy.

use std::time::Instant;

use burn::prelude::*;
use kiln_data::{stratified_split, ImageBatcher, MnistDataset, MnistSplit};
use kiln_metrics::{Accuracy, Mean};
use kiln_vision::ImageClassifier;

use crate::config::{closest, ExperimentConfig};
use crate::error::{KilnError, Result};
use crate::metrics::ClassificationMetrics;
use crate::pipeline::for_each_batch;
use crate::progress::{Phase, StepProgress, TrainingObserver};

pub const DATASETS: [&str; 1] = ["mnist"];

/// Train, validation and test examples of an experiment.
pub struct ClassificationData {
    pub train: MnistDataset,
    pub test: MnistDataset,
    pub train_indices: Vec<usize>,
    pub valid_indices: Vec<usize>,
    pub batcher: ImageBatcher,
}

impl ClassificationData {
    /// `[C, H, W]` of one image as the model receives it.
    pub fn input_shape(&self) -> [usize; 3] {
        [1, self.train.height, self.train.width]
    }

    pub fn load(cfg: &ExperimentConfig) -> Result<Self> {
        let d = &cfg.data;
        if !DATASETS.contains(&d.dataset.as_str()) {
            let hint = closest(&d.dataset, DATASETS).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
            return Err(KilnError::Unsupported(format!(
                "unknown dataset '{}' in [data] (known: {}){hint}",
                d.dataset,
                DATASETS.join(", ")
            )));
        }
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

/// Loss, accuracy and the `[metrics]` of one pass over a split.
#[derive(Debug, Clone, PartialEq)]
pub struct PassMetrics {
    pub loss: f64,
    pub accuracy: f64,
    pub samples_per_second: f64,
    /// The `[metrics]` names with their values, in config order.
    pub extra: Vec<(String, f64)>,
}

/// Evaluates `model` (no gradients) on `indices` of `dataset`, reporting to `observer`.
#[allow(clippy::too_many_arguments)]
pub fn evaluate<B: Backend, M: ImageClassifier<B>>(
    model: &M,
    dataset: &MnistDataset,
    indices: &[usize],
    data: &ClassificationData,
    cfg: &ExperimentConfig,
    device: &B::Device,
    phase: Phase,
    (epoch, epochs): (usize, usize),
    observer: &mut dyn TrainingObserver,
) -> Result<PassMetrics> {
    let loss_fn = crate::loss::cross_entropy(&cfg.loss).init::<B>(device);
    let mut extra = ClassificationMetrics::new(&cfg.metrics);
    let steps = indices.len().div_ceil(cfg.data.batch_size);
    observer.on_phase_start(phase, epoch, epochs, steps);
    let mut meter = PhaseMeter::new(phase, (epoch, epochs), steps);
    let make = |chunk: &[usize], _| data.batcher.host_batch(dataset, chunk);
    for_each_batch(indices, cfg.data.batch_size, cfg.data.num_workers, make, |host| {
        let batch = host.to_device::<B>(device);
        let embeddings = if extra.wants_embeddings() { model.embeddings(batch.images.clone()) } else { None };
        let logits = model.logits(batch.images);
        let batch_loss: f64 = loss_fn.forward(logits.clone(), batch.targets.clone()).into_scalar().elem();
        extra.update(logits.clone(), batch.targets.clone(), embeddings);
        observer.on_step(meter.record(batch_loss, logits, batch.targets));
        Ok(())
    })?;
    let progress = meter.progress;
    let extra = extra.values();
    observer.on_metrics(&extra);
    observer.on_phase_end(&progress);
    Ok(PassMetrics {
        loss: progress.loss,
        accuracy: progress.accuracy,
        samples_per_second: progress.samples_per_second,
        extra,
    })
}

/// Running loss, accuracy and throughput of one phase, as the progress display shows them.
pub struct PhaseMeter {
    loss: Mean,
    accuracy: Accuracy,
    seen: usize,
    start: Instant,
    pub progress: StepProgress,
}

impl PhaseMeter {
    pub fn new(phase: Phase, (epoch, epochs): (usize, usize), steps: usize) -> Self {
        Self {
            loss: Mean::default(),
            accuracy: Accuracy::default(),
            seen: 0,
            start: Instant::now(),
            progress: StepProgress {
                phase,
                epoch,
                epochs,
                step: 0,
                steps,
                loss: 0.0,
                accuracy: 0.0,
                samples_per_second: 0.0,
            },
        }
    }

    /// Adds one batch: its mean loss, logits and targets.
    pub fn record<B: Backend>(
        &mut self,
        batch_loss: f64,
        logits: Tensor<B, 2>,
        targets: Tensor<B, 1, Int>,
    ) -> &StepProgress {
        let n = targets.dims()[0];
        self.accuracy.update(logits, targets);
        self.advance(batch_loss, n)
    }

    /// Adds one batch known only by its mean loss and counts (DDP's all-reduced figures).
    pub fn record_counts(&mut self, batch_loss: f64, correct: u64, n: usize) -> &StepProgress {
        self.accuracy.add(correct, n as u64);
        self.advance(batch_loss, n)
    }

    fn advance(&mut self, batch_loss: f64, n: usize) -> &StepProgress {
        self.loss.update(batch_loss, n as u64);
        self.seen += n;
        let p = &mut self.progress;
        p.step += 1;
        p.loss = self.loss.value().unwrap_or(0.0);
        p.accuracy = self.accuracy.value().unwrap_or(0.0);
        p.samples_per_second = self.seen as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
        &self.progress
    }

    /// Examples recorded so far.
    pub fn seen(&self) -> usize {
        self.seen
    }

    pub fn elapsed_seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}
