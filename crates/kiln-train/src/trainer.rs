//! The training loop: epochs of task steps, validation, checkpoints and run records — one loop
//! for every task and every strategy.
//!
//! kiln owns this loop instead of using burn-train's `Learner` because kiln promises what the
//! Learner does not give: a resumed run that ends bit-for-bit where an uninterrupted one ends
//! (data order and dropout seeds are functions of (seed, epoch)), a run that stops on the first
//! non-finite figure while keeping its last good checkpoint, checkpoints written atomically, and
//! tasks with several losses or optimizers per step. Single-device and DDP runs both go through
//! [`train_replica`]; the strategy only supplies the [`Reducer`] and, for DDP, the threads.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::time::Instant;

use burn::tensor::backend::AutodiffBackend;
use kiln_data::epoch_permutation;

use crate::atomic::temp_sibling;
use crate::checkpoint::{self, CheckpointReader, CheckpointWriter, TrainerState};
use crate::config::{DdpSection, Devices, ExperimentConfig, ScheduleSection, Strategy};
use crate::ddp::{copy_from_rank0, number_parameters, shard_order, steps_per_epoch};
use crate::error::{KilnError, Result};
use crate::figures::{first_non_finite, FigureMeter, Figures};
use crate::pipeline::for_each_batch;
use crate::plot::plot_curves;
use crate::progress::{Phase, StepProgress, TrainingObserver};
use crate::records::{write_metrics_csv, EpochRecord};
use crate::schedule::LrSchedule;
use crate::strategy::{Reducer, SingleDevice};
use crate::task::{BatchKey, EvalContext, Split, StepContext, Task};

/// The files of one run directory.
#[derive(Debug, Clone)]
pub struct RunPaths {
    pub dir: PathBuf,
}

impl RunPaths {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
    pub fn config(&self) -> PathBuf {
        self.dir.join("config.toml")
    }
    pub fn metrics_csv(&self) -> PathBuf {
        self.dir.join("metrics.csv")
    }
    pub fn summary(&self) -> PathBuf {
        self.dir.join("summary.json")
    }
    pub fn curves(&self) -> PathBuf {
        self.dir.join("curves.png")
    }
    pub fn checkpoints(&self) -> PathBuf {
        self.dir.join("checkpoints")
    }
}

/// What the loop needs of an experiment, whatever the task.
#[derive(Debug, Clone, PartialEq)]
pub struct FitSettings {
    pub seed: u64,
    pub epochs: usize,
    /// Per replica, as in PyTorch DDP.
    pub batch_size: usize,
    pub num_workers: usize,
    pub lr: f64,
    pub schedule: ScheduleSection,
    /// Figures are read from the device (and checked for NaN) every this many steps and at the
    /// end of each epoch.
    pub log_every: usize,
    pub checkpoint_every: usize,
    pub strategy: Strategy,
    pub devices: Devices,
    pub ddp: DdpSection,
}

impl FitSettings {
    pub fn from_config(cfg: &ExperimentConfig) -> Self {
        Self {
            seed: cfg.experiment.seed,
            epochs: cfg.train.epochs,
            batch_size: cfg.data.batch_size,
            num_workers: cfg.data.num_workers,
            lr: cfg.optim.lr,
            schedule: cfg.schedule.clone(),
            log_every: cfg.train.log_every,
            checkpoint_every: cfg.train.checkpoint_every,
            strategy: cfg.train.strategy,
            devices: cfg.train.devices.clone(),
            ddp: cfg.ddp.clone(),
        }
    }

    /// One device, a constant learning rate, figures read every 50 steps, a checkpoint every
    /// epoch: a start for tasks driven from code.
    pub fn single(seed: u64, epochs: usize, batch_size: usize, lr: f64) -> Self {
        Self {
            seed,
            epochs,
            batch_size,
            num_workers: 0,
            lr,
            schedule: ScheduleSection::default(),
            log_every: 50,
            checkpoint_every: 1,
            strategy: Strategy::Single,
            devices: Devices::Count(1),
            ddp: DdpSection::default(),
        }
    }

    /// The same run as `self` with `devices` DDP peers in this process.
    pub fn ddp(mut self, devices: usize) -> Self {
        self.strategy = Strategy::Ddp;
        self.devices = Devices::Count(devices);
        self
    }
}

/// A trained model and how training went.
pub struct FitOutcome<M> {
    pub model: M,
    pub state: TrainerState,
}

/// Where every replica starts: fresh, or from a checkpoint.
pub(crate) struct Start {
    pub state: TrainerState,
    pub checkpoint: Option<CheckpointReader>,
}

impl Start {
    fn last_checkpoint(&self) -> Option<PathBuf> {
        self.checkpoint.as_ref().map(|c| c.dir.clone())
    }
}

/// Trains `model` with `task` for `settings.epochs`, resuming from `resume` when given, on one
/// device or as DDP peers as `settings.strategy` says.
#[allow(clippy::too_many_arguments)]
pub fn fit<B: AutodiffBackend, T: Task<B>>(
    task: &T,
    model: T::Model,
    settings: &FitSettings,
    device: &B::Device,
    paths: &RunPaths,
    observer: &mut dyn TrainingObserver,
    resume: Option<CheckpointReader>,
) -> Result<FitOutcome<T::Model>> {
    // Parameter ids in module order: the same on every node and in every process, so optimizer
    // state read back from a checkpoint finds its parameters, and DDP reduces them in step.
    let model = number_parameters(model);
    let start = Start { state: resume.as_ref().map(|c| c.state.clone()).unwrap_or_default(), checkpoint: resume };
    match settings.strategy {
        Strategy::Single => {
            let role = Role::Main { observer, gates: Vec::new(), records: true };
            train_replica(task, settings, &SingleDevice, device.clone(), model, &start, paths, role)
        }
        Strategy::Ddp => crate::ddp::launch(task, model, settings, device, paths, observer, &start),
    }
}

/// The main replica (local peer 0 of each process) seeds the process's generator and lets the
/// process's other replicas into the next epoch; where it `records` (rank 0's process) it also
/// validates, reports and writes the checkpoints.
pub(crate) enum Role<'a> {
    Main { observer: &'a mut dyn TrainingObserver, gates: Vec<Sender<()>>, records: bool },
    Follower(Receiver<()>),
}

/// The loop of one replica: the whole of a single-device run, one peer of a DDP run.
#[allow(clippy::too_many_arguments)]
pub(crate) fn train_replica<B: AutodiffBackend, T: Task<B>>(
    task: &T,
    s: &FitSettings,
    reducer: &dyn Reducer<B::InnerBackend>,
    device: B::Device,
    model: T::Model,
    start: &Start,
    paths: &RunPaths,
    mut role: Role,
) -> Result<FitOutcome<T::Model>> {
    let (rank, world) = (reducer.rank(), reducer.world());
    let mut model = model;
    let mut optimizers = task.optimizers();
    if let Some(ck) = &start.checkpoint {
        (model, optimizers) = task.load(model, optimizers, ck, &device)?;
    }
    if world > 1 {
        // Also after a resume: every rank continues from rank 0's weights, whatever it read.
        model = copy_from_rank0::<B, T::Model>(model, reducer)?;
    }
    let examples = task.train_examples();
    // One device takes a last short batch; DDP drops it so every peer makes the same all-reduces.
    let steps = if world == 1 {
        examples.len().div_ceil(s.batch_size)
    } else {
        steps_per_epoch(examples.len(), s.batch_size, world)
    };
    if steps == 0 {
        return Err(KilnError::Unsupported(format!(
            "{} training examples do not fill one global batch of {} (data.batch_size {} × {world} peers)",
            examples.len(),
            s.batch_size * world,
            s.batch_size
        )));
    }
    let mut schedule = LrSchedule::new(&s.schedule, s.lr, steps, s.epochs)
        .map_err(|e| KilnError::Unsupported(format!("[schedule]: {e}")))?;
    let mut state = start.state.clone();
    schedule.skip(state.global_step);
    let mut last_checkpoint = start.last_checkpoint();

    while state.epoch < s.epochs {
        let epoch = state.epoch + 1;
        if let Role::Main { observer, .. } = &mut role {
            // Dropout masks depend only on (seed, epoch), like the data order. The backend's
            // generator is shared by the peers of a process, so only the main replica seeds it.
            let _rng = crate::backend::rng_lock();
            B::seed(&device, s.seed.wrapping_add(1_000_003 * epoch as u64));
            observer.on_phase_start(Phase::Train, epoch, s.epochs, steps);
        }
        let order = if task.shuffle() { epoch_permutation(&examples, s.seed, epoch) } else { examples.clone() };
        let mine = if world == 1 { order } else { shard_order(&order, s.batch_size, rank, world) };
        let make = |chunk: &[usize], i: usize| {
            task.train_batch(chunk, BatchKey { seed: s.seed, epoch, index: i * world + rank })
        };
        let mut meter = FigureMeter::default();
        let mut carry = T::Carry::default();
        let mut progress = StepProgress::new(Phase::Train, (epoch, s.epochs), steps);
        let started = Instant::now();
        let mut lr = s.lr;
        // The model moves through the task each step; owning it (not a clone) lets Burn update
        // parameters in place.
        let mut slot = Some(model);
        for_each_batch(&mine, s.batch_size, s.num_workers, make, |batch| {
            let current = slot.take().expect("the model is back in its slot after every step");
            lr = schedule.step();
            let mut ctx = StepContext::new(lr, (epoch, state.global_step), &device, reducer, &mut meter);
            let trained = task.train_step(current, &mut optimizers, batch, &mut carry, &mut ctx)?;
            slot = Some(task.after_step(trained, state.global_step));
            state.global_step += 1;
            progress.step += 1;
            if progress.step % s.log_every == 0 || progress.step == steps {
                // The only host read of training: every figure at once, every log_every steps.
                progress.figures = meter.read(reducer, state.global_step)?;
                if let Some((name, value)) = first_non_finite(&progress.figures) {
                    let at = (epoch, progress.step);
                    return Err(non_finite(name, value, at, s.log_every, last_checkpoint.as_deref(), paths));
                }
            }
            let seen = (progress.step * s.batch_size * world).min(mine.len() * world);
            progress.samples_per_second = seen as f64 / started.elapsed().as_secs_f64().max(1e-9);
            if let Role::Main { observer, .. } = &mut role {
                observer.on_step(&progress);
            }
            Ok(())
        })?;
        model = slot.take().expect("the model is back in its slot after every step");
        let seconds = started.elapsed().as_secs_f64();
        let seen = mine.len() * world;
        match &mut role {
            Role::Main { observer, gates, records: false } => {
                observer.on_phase_end(&progress);
                state.epoch = epoch;
                gates.iter().for_each(|gate| {
                    let _ = gate.send(());
                });
            }
            Role::Main { observer, gates, records: true } => {
                observer.on_phase_end(&progress);
                let valid = if task.has_split(Split::Valid) {
                    let mut ctx = EvalContext::new(&device, s.batch_size, s.num_workers, (epoch, s.epochs), *observer);
                    task.evaluate(&model, Split::Valid, &mut ctx)?
                } else {
                    Figures::new()
                };
                state.epoch = epoch;
                state.train_seconds += seconds;
                state.samples_seen += seen as u64;
                state.history.push(EpochRecord {
                    epoch,
                    lr,
                    train: progress.figures.clone(),
                    valid,
                    samples_per_second: seen as f64 / seconds.max(1e-9),
                    seconds,
                });
                write_metrics_csv(&paths.metrics_csv(), &state.history)?;
                write_curves(&paths.curves(), &state.history);
                if epoch.is_multiple_of(s.checkpoint_every) || epoch == s.epochs {
                    let mut entries = CheckpointWriter::default();
                    task.save(&model, &optimizers, &mut entries)?;
                    last_checkpoint = Some(checkpoint::save(&paths.checkpoints(), &state, entries)?);
                }
                gates.iter().for_each(|gate| {
                    let _ = gate.send(());
                });
            }
            Role::Follower(gate) => {
                state.epoch = epoch;
                gate.recv().map_err(|_| KilnError::PeerAborted { rank })?;
            }
        }
    }
    Ok(FitOutcome { model, state })
}

/// The error for a NaN or infinite figure, saying where the last good checkpoint is.
fn non_finite(
    name: &str,
    value: f64,
    (epoch, step): (usize, usize),
    log_every: usize,
    last_checkpoint: Option<&Path>,
    paths: &RunPaths,
) -> KilnError {
    let kept = match last_checkpoint {
        Some(dir) => format!(
            "The last good checkpoint is {}; lower optim.lr or set optim.grad_clip, then continue with `kiln run <config> --resume {}`.",
            dir.display(),
            paths.dir.display()
        ),
        None => "No checkpoint was written before it; lower optim.lr or set optim.grad_clip and start again.".into(),
    };
    let figure = format!("the training figure '{name}' (read every {log_every} steps and at epoch ends)");
    KilnError::NonFiniteLoss { figure, value, epoch, step, kept }
}

/// Plots through a temporary file; a failed plot never fails the run.
fn write_curves(path: &Path, history: &[EpochRecord]) {
    let tmp = temp_sibling(path).with_extension("png");
    if plot_curves(&tmp, history).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    } else {
        let _ = std::fs::remove_file(&tmp);
    }
}
