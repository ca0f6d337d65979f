//! `kiln bench`: training-step throughput of a model on a backend.
//!
//! Times whole optimizer steps (forward, backward, Adam update) on random data of the model's
//! input shape, reading the loss back each step as the trainer does, so device work is included.

use std::time::Instant;

use burn::module::AutodiffModule;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Distribution;
use kiln_losses::CrossEntropyConfig;
use kiln_vision::ImageClassifier;
use serde::Serialize;

use crate::backend::{dispatch, BackendTask};
use crate::error::{KilnError, Result};
use crate::registry::{entry, with_classifier, ClassifierTask};

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub model: String,
    pub backend: String,
    pub batch_size: usize,
    pub steps: usize,
    pub warmup: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub model: String,
    pub backend: String,
    pub batch_size: usize,
    pub steps: usize,
    /// The first step alone: JIT compilation and autotuning land here on GPU backends.
    pub first_step_ms: f64,
    pub step_ms: f64,
    pub steps_per_second: f64,
    pub samples_per_second: f64,
}

pub fn bench(options: &BenchOptions) -> Result<BenchReport> {
    if options.batch_size == 0 || options.steps == 0 {
        return Err(KilnError::Unsupported("--batch-size and --steps must be at least 1".into()));
    }
    entry(&options.model)?;
    dispatch(&options.backend, BenchJob { options: options.clone() })?
}

struct BenchJob {
    options: BenchOptions,
}

impl BackendTask for BenchJob {
    type Output = Result<BenchReport>;
    fn run<B: AutodiffBackend>(self, device: B::Device, backend: &'static str) -> Self::Output {
        B::seed(&device, 0);
        let name = self.options.model.clone();
        with_classifier::<B, _>(
            &name,
            &toml::Table::new(),
            &Default::default(),
            &device.clone(),
            Timed { options: self.options, device, backend },
        )
    }
}

struct Timed<B: Backend> {
    options: BenchOptions,
    device: B::Device,
    backend: &'static str,
}

impl<B: AutodiffBackend> ClassifierTask<B> for Timed<B> {
    type Output = BenchReport;
    fn run<M>(self, model: M) -> BenchReport
    where
        M: AutodiffModule<B> + ImageClassifier<B> + 'static,
        M::InnerModule: ImageClassifier<B::InnerBackend>,
    {
        let o = &self.options;
        let device = &self.device;
        let [c, h, w] = entry(&o.model).map(|e| e.default_input).unwrap_or([1, 28, 28]);
        let images = Tensor::<B, 4>::random([o.batch_size, c, h, w], Distribution::Normal(0.0, 1.0), device);
        let targets = Tensor::<B, 1, Int>::random([o.batch_size], Distribution::Uniform(0.0, 10.0), device);
        let loss_fn = CrossEntropyConfig::new().init::<B>(device);
        let mut optimizer = AdamConfig::new().init::<B, M>();
        let mut model = model;
        let mut step = |model: M| -> M {
            let loss = loss_fn.forward(model.logits(images.clone()), targets.clone());
            let _: f32 = loss.clone().into_scalar().elem();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            optimizer.step(1e-3, model, grads)
        };
        let first = Instant::now();
        model = step(model);
        let first_step_ms = first.elapsed().as_secs_f64() * 1e3;
        for _ in 0..o.warmup {
            model = step(model);
        }
        B::sync(device).ok();
        let start = Instant::now();
        for _ in 0..o.steps {
            model = step(model);
        }
        B::sync(device).ok();
        let seconds = start.elapsed().as_secs_f64();
        BenchReport {
            model: o.model.clone(),
            backend: self.backend.into(),
            batch_size: o.batch_size,
            steps: o.steps,
            first_step_ms,
            step_ms: seconds * 1e3 / o.steps as f64,
            steps_per_second: o.steps as f64 / seconds,
            samples_per_second: (o.steps * o.batch_size) as f64 / seconds,
        }
    }
}
