//! `kiln bench`: training-step throughput of a model on a backend.
//!
//! Times the task's own training step ([`Task::train_step`]: host batch to device, forward,
//! backward, optimizer update) on synthetic batches of the model's input shape, reading the
//! figures back every 50 steps as the trainer does, and waiting for the device at the end, so
//! device work is included.

mod pytorch;

use std::time::{Duration, Instant};

use burn::module::Module;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;
use burn_collective::CollectiveConfig;
use serde::Serialize;

use crate::backend::{dispatch, BackendTask};
use crate::config::{GradientExchange, OptimSection, OptimizerName, Strategy};
use crate::ddp::{broadcast_from_root, number_parameters, processes, CollectivePeer, DdpPeer};
use crate::error::{KilnError, Result};
use crate::figures::FigureMeter;
use crate::registry::entry;
use crate::strategy::{Reducer, SingleDevice};
use crate::task::classification::{with_classifier, ClassificationTask, ClassifierJob};
use crate::task::language_model::models::{self as lm_models, LanguageModelConfig, LANGUAGE_MODELS};
use crate::task::language_model::{LanguageModelTask, TextData};
use crate::task::{StepContext, Task};

/// How often the trainer reads figures by default (`[train] log_every`).
const LOG_EVERY: usize = 50;

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub model: String,
    pub backend: String,
    /// The backend's default device when `None`.
    pub device: Option<crate::backend::DeviceName>,
    /// Per device.
    pub batch_size: usize,
    pub steps: usize,
    pub warmup: usize,
    /// `Ddp` times `devices` peers all-reducing their gradients every step, after timing one
    /// device alone for the scaling efficiency.
    pub strategy: Strategy,
    pub devices: usize,
    /// How the DDP peers exchange gradients.
    pub exchange: GradientExchange,
    /// `[C, H, W]` of the synthetic images; the model's default input when `None`.
    pub input: Option<[usize; 3]>,
    /// Language models: tokens per window and the vocabulary of the random tokens.
    pub seq_len: usize,
    pub vocab: usize,
    /// Also time the same model, batch and device in PyTorch (`benches/pytorch_bench.py`).
    pub compare_pytorch: bool,
}

/// What the synthetic batches hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BenchInput {
    /// `[C, H, W]` images.
    Image([usize; 3]),
    /// Windows of `seq_len` tokens drawn from `vocab` ids.
    Tokens { seq_len: usize, vocab: usize },
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub model: String,
    pub backend: String,
    pub input: BenchInput,
    pub batch_size: usize,
    pub steps: usize,
    /// The first step alone: JIT compilation and autotuning land here on GPU backends.
    pub first_step_ms: f64,
    pub step_ms: f64,
    pub steps_per_second: f64,
    /// Across all devices (windows, for a language model).
    pub samples_per_second: f64,
    /// Language models: `samples_per_second × seq_len`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_per_second: Option<f64>,
    pub strategy: Strategy,
    pub devices: usize,
    /// DDP only: one device's samples per second, and `samples_per_second / (devices × that)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub single_device_samples_per_second: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling_efficiency: Option<f64>,
    /// DDP only: per step, the time the slowest peer spent in reductions (the gradient
    /// exchange, the figures every 50 steps, and waiting for the other peers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange_ms: Option<f64>,
    /// With `compare_pytorch`: the PyTorch side's timing, and kiln's step time over it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pytorch: Option<pytorch::PytorchTiming>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio_to_pytorch: Option<f64>,
}

pub fn bench(options: &BenchOptions) -> Result<BenchReport> {
    if options.batch_size == 0 || options.steps == 0 || options.devices == 0 {
        return Err(KilnError::Unsupported("--batch-size, --steps and --devices must be at least 1".into()));
    }
    if options.strategy == Strategy::Single && options.devices > 1 {
        return Err(KilnError::Unsupported("--devices > 1 needs --strategy ddp".into()));
    }
    // Under mpirun, `--strategy ddp` times every process's devices together.
    let processes = crate::ddp::join_processes()?;
    crate::ddp::check_strategy_spans(processes, options.strategy)?;
    if processes.size > 1 && options.compare_pytorch {
        return Err(KilnError::Unsupported(format!(
            "--compare pytorch runs one PyTorch process, not {} ranks; time PyTorch's DDP with `python benches/pytorch_bench.py --model {} --ddp {}`",
            processes.size, options.model, processes.size
        )));
    }
    let language_model = LANGUAGE_MODELS.iter().any(|m| m.name == options.model);
    if language_model && options.input.is_some() {
        return Err(KilnError::Unsupported(format!(
            "--input is for image models; {} takes --seq-len and --vocab",
            options.model
        )));
    }
    if !language_model {
        entry(&options.model)?;
    }
    crate::backend::check_available(&options.backend)?;
    crate::backend::check_device_present(&options.backend, options.device)?;
    let job = BenchJob { options: options.clone() };
    let mut report = if language_model {
        dispatch(&options.backend, options.device, LanguageModelBench(job))??
    } else {
        dispatch(&options.backend, options.device, job)??
    };
    if options.compare_pytorch {
        let torch = pytorch::time_pytorch(options, report.input)?;
        report.ratio_to_pytorch = Some(report.step_ms / torch.step_ms);
        report.pytorch = Some(torch);
    }
    Ok(report)
}

/// Adam at 1e-3, PyTorch's defaults otherwise: what `benches/pytorch_bench.py` steps with.
fn adam() -> OptimSection {
    OptimSection {
        name: OptimizerName::Adam,
        lr: 1e-3,
        weight_decay: 0.0,
        betas: [0.9, 0.999],
        eps: 1e-8,
        momentum: 0.0,
        nesterov: false,
        grad_clip: None,
    }
}

struct BenchJob {
    options: BenchOptions,
}

impl BackendTask for BenchJob {
    type Output = Result<BenchReport>;
    fn run<B: AutodiffBackend>(self, device: B::Device, backend: &'static str) -> Self::Output {
        B::seed(&device, 0);
        let name = self.options.model.clone();
        // An input other than the model's own sets its channels (and a ViT's image size).
        let params = match (self.options.input, entry(&name)) {
            (Some(input), Ok(entry)) => entry.input_params(input),
            _ => toml::Table::new(),
        };
        with_classifier::<B, _>(
            &name,
            &params,
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

impl<B: AutodiffBackend> ClassifierJob<B> for Timed<B> {
    type Output = Result<BenchReport>;
    fn run<M>(self, model: M) -> Result<BenchReport>
    where
        M: burn::module::AutodiffModule<B> + kiln_vision::ImageClassifier<B> + 'static,
        M::InnerModule: kiln_vision::ImageClassifier<B::InnerBackend>,
    {
        let o = &self.options;
        let input = o.input.unwrap_or_else(|| entry(&o.model).map(|e| e.default_input).unwrap_or([1, 28, 28]));
        model
            .check_input(input)
            .map_err(|e| KilnError::ModelParams { model: o.model.clone(), message: e.to_string() })?;
        let classes = model.complexity(input).output[0];
        let task = ClassificationTask::<M>::synthetic(input, classes, adam());
        time_task(&task, model, o, &self.device, self.backend, BenchInput::Image(input))
    }
}

/// `kiln bench` of a language model: the task's step on random windows.
struct LanguageModelBench(BenchJob);

impl BackendTask for LanguageModelBench {
    type Output = Result<BenchReport>;
    fn run<B: AutodiffBackend>(self, device: B::Device, backend: &'static str) -> Self::Output {
        B::seed(&device, 0);
        let o = &self.0.options;
        let config = lm_models::config(&o.model, &toml::Table::new(), o.vocab)
            .map_err(|p| KilnError::ModelParams { model: o.model.clone(), message: p.message })?;
        if let Some(max_len) = config.max_len().filter(|&m| o.seq_len > m) {
            return Err(KilnError::Unsupported(format!(
                "--seq-len {} is longer than {}'s max_len {max_len}",
                o.seq_len, o.model
            )));
        }
        let data = TextData::synthetic(o.vocab, o.seq_len, o.batch_size)?;
        let input = BenchInput::Tokens { seq_len: o.seq_len, vocab: o.vocab };
        match config {
            LanguageModelConfig::Recurrent(c) => {
                let task = LanguageModelTask::with_optimizer(data, adam())?;
                time_task(&task, c.init::<B>(&device), o, &device, backend, input)
            }
            LanguageModelConfig::Transformer(c) => {
                let task = LanguageModelTask::with_optimizer(data, adam())?;
                time_task(&task, c.init::<B>(&device), o, &device, backend, input)
            }
        }
    }
}

/// Times `task`'s steps on one device (and on `o.devices` DDP peers when asked) and reports.
fn time_task<B: AutodiffBackend, T: Task<B>>(
    task: &T,
    model: T::Model,
    o: &BenchOptions,
    device: &B::Device,
    backend: &'static str,
    input: BenchInput,
) -> Result<BenchReport>
where
    T::Batch: Clone,
{
    let model = number_parameters(model);
    let root = processes().is_root();
    let single = if root { Some(time_steps(task, model.clone(), o, device, &SingleDevice)?) } else { None };
    let (timing, peers) = match o.strategy {
        Strategy::Single => (single.expect("a single-device bench runs in one process"), 1),
        Strategy::Ddp => {
            // Under mpirun the other ranks wait while rank 0 times one device on an idle machine.
            let said = single.map_or(0.0, |t| t.seconds).to_le_bytes().to_vec();
            broadcast_from_root(said, Duration::from_secs(600), "timing one device alone")?;
            (time_ddp(task, model, o, device)?, o.devices * processes().size)
        }
    };
    let samples_per_second = (o.steps * o.batch_size * peers) as f64 / timing.seconds;
    // Only rank 0 reports, and only it timed one device.
    let single_rate = single.map_or(f64::NAN, |s| (o.steps * o.batch_size) as f64 / s.seconds);
    let ddp = o.strategy == Strategy::Ddp;
    Ok(BenchReport {
        model: o.model.clone(),
        backend: backend.into(),
        input,
        batch_size: o.batch_size,
        steps: o.steps,
        first_step_ms: timing.first_step_ms,
        step_ms: timing.seconds * 1e3 / o.steps as f64,
        steps_per_second: o.steps as f64 / timing.seconds,
        samples_per_second,
        tokens_per_second: match input {
            BenchInput::Tokens { seq_len, .. } => Some(samples_per_second * seq_len as f64),
            BenchInput::Image(_) => None,
        },
        strategy: o.strategy,
        devices: peers,
        single_device_samples_per_second: ddp.then_some(single_rate),
        scaling_efficiency: ddp.then(|| samples_per_second / (peers as f64 * single_rate)),
        exchange_ms: ddp.then(|| timing.exchange_seconds * 1e3 / o.steps as f64),
        pytorch: None,
        ratio_to_pytorch: None,
    })
}

#[derive(Debug, Clone, Copy)]
struct Timing {
    first_step_ms: f64,
    seconds: f64,
    /// Of `seconds`, spent in the reducer's sums (the exchange, and waiting for the others).
    exchange_seconds: f64,
}

/// A reducer that adds up the time its sums take.
struct TimedReducer<'r, B: Backend> {
    inner: &'r dyn Reducer<B>,
    spent: std::cell::Cell<Duration>,
}

impl<B: Backend> Reducer<B> for TimedReducer<'_, B> {
    fn rank(&self) -> usize {
        self.inner.rank()
    }
    fn world(&self) -> usize {
        self.inner.world()
    }
    fn exchange(&self) -> GradientExchange {
        self.inner.exchange()
    }
    fn sum(&self, values: Tensor<B, 1>) -> Result<Tensor<B, 1>> {
        // Wait for the step's work first, so that only the exchange is counted.
        B::sync(&values.device()).ok();
        let started = Instant::now();
        let summed = self.inner.sum(values);
        self.spent.set(self.spent.get() + started.elapsed());
        summed
    }
}

/// Times `o.steps` task steps after the first and `o.warmup` more, gradients reduced by
/// `reducer`.
fn time_steps<B: AutodiffBackend, T: Task<B>>(
    task: &T,
    model: T::Model,
    o: &BenchOptions,
    device: &B::Device,
    reducer: &dyn Reducer<B::InnerBackend>,
) -> Result<Timing>
where
    T::Batch: Clone,
{
    let timed = TimedReducer { inner: reducer, spent: Default::default() };
    let reducer: &dyn Reducer<B::InnerBackend> = &timed;
    let batch = task.synthetic_batch(o.batch_size, reducer.rank() as u64);
    let mut optimizers = task.optimizers();
    let mut carry = T::Carry::default();
    let mut meter = FigureMeter::default();
    let mut model = model;
    let mut step = |model: T::Model, i: usize| -> Result<T::Model> {
        let mut ctx = StepContext::new(1e-3, (1, i), device, reducer, &mut meter);
        let model = task.train_step(model, &mut optimizers, batch.clone(), &mut carry, &mut ctx)?;
        if (i + 1) % LOG_EVERY == 0 {
            meter.read(reducer, i + 1)?;
        }
        Ok(model)
    };
    let first = Instant::now();
    model = step(model, 0)?;
    B::sync(device).ok();
    let first_step_ms = first.elapsed().as_secs_f64() * 1e3;
    for i in 0..o.warmup {
        model = step(model, 1 + i)?;
    }
    B::sync(device).ok();
    timed.spent.set(Duration::ZERO);
    let start = Instant::now();
    for i in 0..o.steps {
        model = step(model, 1 + o.warmup + i)?;
    }
    meter.read(reducer, 1 + o.warmup + o.steps)?;
    B::sync(device).ok();
    let seconds = start.elapsed().as_secs_f64();
    Ok(Timing { first_step_ms, seconds, exchange_seconds: timed.spent.get().as_secs_f64() })
}

/// `o.devices` peers on the backend's default device (in each process, under mpirun), each with
/// its own batch; the slowest peer's time counts (they wait for each other every step anyway).
fn time_ddp<B: AutodiffBackend, T: Task<B>>(
    task: &T,
    model: T::Model,
    o: &BenchOptions,
    device: &B::Device,
) -> Result<Timing>
where
    T::Batch: Clone,
{
    burn_collective::reset_collective::<B::InnerBackend>();
    let config = CollectiveConfig::default().with_num_devices(o.devices);
    let timings: Vec<Result<Timing>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..o.devices)
            .map(|rank| {
                let (replica, config) = (model.clone().fork(device), config.clone());
                scope.spawn(move || {
                    let timeout = Duration::from_secs(600);
                    let local = if o.devices > 1 {
                        let peer = CollectivePeer::<B::InnerBackend>::start(rank, timeout);
                        peer.register(device.clone(), config)?;
                        Some(peer)
                    } else {
                        None
                    };
                    let peer = DdpPeer::new(local, (rank, o.devices), processes(), timeout).with_exchange(o.exchange);
                    let timing = time_steps(task, replica, o, device, &peer);
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
