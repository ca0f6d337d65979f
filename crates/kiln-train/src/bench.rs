//! `kiln bench`: training-step throughput of a model on a backend.
//!
//! Times whole optimizer steps (forward, backward, Adam update) on random data of the model's
//! input shape, reading the loss back each step as the trainer does, so device work is included.

use std::time::{Duration, Instant};

use burn::module::AutodiffModule;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Distribution;
use kiln_losses::CrossEntropyConfig;
use kiln_vision::ImageClassifier;
use serde::Serialize;

use burn_collective::{CollectiveConfig, ReduceOperation};

use crate::backend::{dispatch, BackendTask};
use crate::config::Strategy;
use crate::ddp::{number_parameters, CollectivePeer};
use crate::error::{KilnError, Result};
use crate::registry::{entry, with_classifier, ClassifierTask};

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub model: String,
    pub backend: String,
    /// Per device.
    pub batch_size: usize,
    pub steps: usize,
    pub warmup: usize,
    /// `Ddp` times `devices` peers all-reducing their gradients every step, after timing one
    /// device alone for the scaling efficiency.
    pub strategy: Strategy,
    pub devices: usize,
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
    /// Across all devices.
    pub samples_per_second: f64,
    pub strategy: Strategy,
    pub devices: usize,
    /// DDP only: one device's samples per second, and `samples_per_second / (devices × that)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub single_device_samples_per_second: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling_efficiency: Option<f64>,
}

pub fn bench(options: &BenchOptions) -> Result<BenchReport> {
    if options.batch_size == 0 || options.steps == 0 || options.devices == 0 {
        return Err(KilnError::Unsupported("--batch-size, --steps and --devices must be at least 1".into()));
    }
    if options.strategy == Strategy::Single && options.devices > 1 {
        return Err(KilnError::Unsupported("--devices > 1 needs --strategy ddp".into()));
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
        )?
    }
}

struct Timed<B: Backend> {
    options: BenchOptions,
    device: B::Device,
    backend: &'static str,
}

impl<B: AutodiffBackend> ClassifierTask<B> for Timed<B> {
    type Output = Result<BenchReport>;
    fn run<M>(self, model: M) -> Result<BenchReport>
    where
        M: AutodiffModule<B> + ImageClassifier<B> + 'static,
        M::InnerModule: ImageClassifier<B::InnerBackend>,
    {
        let o = &self.options;
        let single = time_steps(model.clone(), o, &self.device, None)?;
        let (timing, peers) = match o.strategy {
            Strategy::Single => (single, 1),
            Strategy::Ddp => (time_ddp(model, o, &self.device)?, o.devices),
        };
        let samples_per_second = (o.steps * o.batch_size * peers) as f64 / timing.seconds;
        let single_rate = (o.steps * o.batch_size) as f64 / single.seconds;
        let ddp = o.strategy == Strategy::Ddp;
        Ok(BenchReport {
            model: o.model.clone(),
            backend: self.backend.into(),
            batch_size: o.batch_size,
            steps: o.steps,
            first_step_ms: timing.first_step_ms,
            step_ms: timing.seconds * 1e3 / o.steps as f64,
            steps_per_second: o.steps as f64 / timing.seconds,
            samples_per_second,
            strategy: o.strategy,
            devices: peers,
            single_device_samples_per_second: ddp.then_some(single_rate),
            scaling_efficiency: ddp.then(|| samples_per_second / (peers as f64 * single_rate)),
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Timing {
    first_step_ms: f64,
    seconds: f64,
}

/// Times `o.steps` optimizer steps after the first and `o.warmup` more; with `peer`, the
/// gradients are averaged with the other peers every step.
fn time_steps<B, M>(
    model: M,
    o: &BenchOptions,
    device: &B::Device,
    peer: Option<&CollectivePeer<B::InnerBackend>>,
) -> Result<Timing>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + ImageClassifier<B>,
{
    let [c, h, w] = entry(&o.model).map(|e| e.default_input).unwrap_or([1, 28, 28]);
    let images = Tensor::<B, 4>::random([o.batch_size, c, h, w], Distribution::Normal(0.0, 1.0), device);
    let targets = Tensor::<B, 1, Int>::random([o.batch_size], Distribution::Uniform(0.0, 10.0), device);
    let loss_fn = CrossEntropyConfig::new().init::<B>(device);
    let mut optimizer = AdamConfig::new().init::<B, M>();
    let mut model = model;
    let mut step = |model: M| -> Result<M> {
        let loss = loss_fn.forward(model.logits(images.clone()), targets.clone());
        let mut grads = GradientsParams::from_grads(loss.clone().backward(), &model);
        let loss = match peer {
            Some(peer) => {
                let (reduced, loss) = peer.all_reduce(grads, loss.inner(), ReduceOperation::Mean)?;
                grads = reduced;
                loss
            }
            None => loss.inner(),
        };
        let _: f32 = loss.into_scalar().elem();
        Ok(optimizer.step(1e-3, model, grads))
    };
    let first = Instant::now();
    model = step(model)?;
    let first_step_ms = first.elapsed().as_secs_f64() * 1e3;
    for _ in 0..o.warmup {
        model = step(model)?;
    }
    B::sync(device).ok();
    let start = Instant::now();
    for _ in 0..o.steps {
        model = step(model)?;
    }
    B::sync(device).ok();
    Ok(Timing { first_step_ms, seconds: start.elapsed().as_secs_f64() })
}

/// `o.devices` peers on the backend's default device, each with its own batch; the slowest
/// peer's time counts (they wait for each other every step anyway).
fn time_ddp<B, M>(model: M, o: &BenchOptions, device: &B::Device) -> Result<Timing>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + ImageClassifier<B>,
{
    burn_collective::reset_collective::<B::InnerBackend>();
    let config = CollectiveConfig::default().with_num_devices(o.devices);
    let model = number_parameters(model);
    let timings: Vec<Result<Timing>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..o.devices)
            .map(|rank| {
                let (replica, config) = (model.clone().fork(device), config.clone());
                scope.spawn(move || {
                    let peer = CollectivePeer::<B::InnerBackend>::start(rank, Duration::from_secs(600));
                    peer.register(device.clone(), config)?;
                    let timing = time_steps(replica, o, device, Some(&peer));
                    if timing.is_err() {
                        burn_collective::reset_collective::<B::InnerBackend>();
                    } else {
                        peer.finish()?;
                    }
                    timing
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a bench peer panicked")).collect()
    });
    let timings = timings.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(timings.into_iter().max_by(|a, b| a.seconds.total_cmp(&b.seconds)).expect("at least one device"))
}
