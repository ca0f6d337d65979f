//! The training loop: epochs of optimizer steps, validation, checkpoints and run records.
//!
//! kiln owns this loop instead of using burn-train's `Learner` because kiln promises what the
//! Learner does not give: a resumed run that ends bit-for-bit where an uninterrupted one ends
//! (data order and dropout seeds are functions of (seed, epoch)), a run that stops on the first
//! non-finite loss while keeping its last good checkpoint, checkpoints written atomically, and
//! tasks with several losses or optimizers per step (GANs, EMA copies) later on.

use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use kiln_data::epoch_permutation;
use kiln_vision::ImageClassifier;

use crate::atomic::temp_sibling;
use crate::checkpoint::{self, Checkpoint, TrainerState};
use crate::config::ExperimentConfig;
use crate::error::{KilnError, Result};
use crate::optimizer::AnyOptimizer;
use crate::pipeline::for_each_batch;
use crate::plot::plot_curves;
use crate::progress::{Phase, TrainingObserver};
use crate::records::{write_metrics_csv, EpochRecord};
use crate::schedule::LrSchedule;
use crate::task::classification::{evaluate, ClassificationData, PhaseMeter};

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

/// A trained model and how training went.
pub struct FitOutcome<M> {
    pub model: M,
    pub state: TrainerState,
}

/// Trains `model` for the configured epochs, resuming from `resume` when given.
pub fn fit<B, M>(
    model: M,
    cfg: &ExperimentConfig,
    data: &ClassificationData,
    device: &B::Device,
    paths: &RunPaths,
    observer: &mut dyn TrainingObserver,
    resume: Option<Checkpoint>,
) -> Result<FitOutcome<M>>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + ImageClassifier<B>,
    M::InnerModule: ImageClassifier<B::InnerBackend>,
{
    let epochs = cfg.train.epochs;
    let batch_size = cfg.data.batch_size;
    let steps_per_epoch = data.train_indices.len().div_ceil(batch_size);
    let mut optimizer = AnyOptimizer::<M, B>::new(&cfg.optim);
    let mut schedule = LrSchedule::new(&cfg.schedule, cfg.optim.lr, steps_per_epoch, epochs)
        .map_err(|e| KilnError::Unsupported(format!("[schedule]: {e}")))?;
    let loss_fn = crate::loss::cross_entropy(&cfg.loss).init::<B>(device);

    let mut model = model;
    let mut state = TrainerState::default();
    let mut last_checkpoint: Option<PathBuf> = None;
    if let Some(ck) = resume {
        let bad = |reason: String| KilnError::Checkpoint { path: ck.dir.clone(), reason };
        model = checkpoint::load_model_bytes(model, ck.model, device).map_err(|e| bad(format!("model: {e}")))?;
        optimizer = optimizer.load_state_bytes(ck.optimizer, device).map_err(|e| bad(format!("optimizer: {e}")))?;
        schedule.skip(ck.state.global_step);
        state = ck.state;
        last_checkpoint = Some(ck.dir);
    }

    while state.epoch < epochs {
        let epoch = state.epoch + 1;
        // Dropout masks depend only on (seed, epoch), like the data order.
        B::seed(device, cfg.experiment.seed.wrapping_add(1_000_003 * epoch as u64));
        let order = epoch_permutation(&data.train_indices, cfg.experiment.seed, epoch);
        let mut meter = PhaseMeter::new(Phase::Train, (epoch, epochs), steps_per_epoch);
        let mut lr = cfg.optim.lr;
        observer.on_phase_start(Phase::Train, epoch, epochs, steps_per_epoch);
        // The model moves through the optimizer each step; owning it (not a clone) lets Burn
        // update parameters in place.
        let mut slot = Some(model);
        let (shift, seed) = (cfg.data.augment_shift, cfg.experiment.seed);
        let make = |chunk: &[usize], i: usize| match shift {
            0 => data.batcher.host_batch(&data.train, chunk),
            s => data.batcher.host_batch_shifted(&data.train, chunk, s, batch_seed(seed, epoch, i)),
        };
        for_each_batch(&order, batch_size, cfg.data.num_workers, make, |host| {
            let batch = host.to_device::<B>(device);
            let current = slot.take().expect("the model is back in its slot after every step");
            let logits = current.training_logits(batch.images, batch.targets.clone());
            let loss = loss_fn.forward(logits.clone(), batch.targets.clone());
            let value: f64 = loss.clone().into_scalar().elem();
            if !value.is_finite() {
                return Err(non_finite_loss(value, epoch, meter.progress.step + 1, last_checkpoint.as_deref(), paths));
            }
            lr = schedule.step();
            let grads = GradientsParams::from_grads(loss.backward(), &current);
            slot = Some(optimizer.step(lr, current, grads));
            state.global_step += 1;
            observer.on_step(meter.record(value, logits, batch.targets));
            Ok(())
        })?;
        model = slot.take().expect("the model is back in its slot after every step");
        let trained =
            TrainedEpoch { epoch, lr, seen: meter.seen(), seconds: meter.elapsed_seconds(), progress: meter.progress };
        observer.on_phase_end(&trained.progress);
        if let Some(dir) = end_epoch(&model, &optimizer, cfg, data, device, paths, observer, &mut state, trained)? {
            last_checkpoint = Some(dir);
        }
    }
    Ok(FitOutcome { model, state })
}

/// The training half of an epoch, as the main device saw it.
pub(crate) struct TrainedEpoch {
    pub epoch: usize,
    /// The learning rate of the epoch's last step.
    pub lr: f64,
    /// Examples trained on, across all devices.
    pub seen: usize,
    pub seconds: f64,
    pub progress: crate::progress::StepProgress,
}

/// The rest of an epoch, the same on one device and for DDP's main device: validation, the run
/// records and plot, and a checkpoint when one is due (returned).
#[allow(clippy::too_many_arguments)]
pub(crate) fn end_epoch<B, M>(
    model: &M,
    optimizer: &AnyOptimizer<M, B>,
    cfg: &ExperimentConfig,
    data: &ClassificationData,
    device: &B::Device,
    paths: &RunPaths,
    observer: &mut dyn TrainingObserver,
    state: &mut TrainerState,
    trained: TrainedEpoch,
) -> Result<Option<PathBuf>>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + ImageClassifier<B>,
    M::InnerModule: ImageClassifier<B::InnerBackend>,
{
    let TrainedEpoch { epoch, lr, seen, seconds, progress } = trained;
    let epochs = cfg.train.epochs;
    let valid = if data.valid_indices.is_empty() {
        None
    } else {
        let inner = model.valid();
        Some(evaluate(
            &inner,
            &data.train,
            &data.valid_indices,
            data,
            cfg,
            device,
            Phase::Valid,
            (epoch, epochs),
            observer,
        )?)
    };
    state.epoch = epoch;
    state.train_seconds += seconds;
    state.samples_seen += seen as u64;
    state.history.push(EpochRecord {
        epoch,
        lr,
        train_loss: progress.loss,
        train_accuracy: progress.accuracy,
        valid_loss: valid.as_ref().map(|v| v.loss),
        valid_accuracy: valid.as_ref().map(|v| v.accuracy),
        valid_metrics: valid.map(|v| v.extra.into_iter().collect()).unwrap_or_default(),
        samples_per_second: seen as f64 / seconds.max(1e-9),
        seconds,
    });
    write_metrics_csv(&paths.metrics_csv(), &state.history)?;
    write_curves(&paths.curves(), &state.history);
    if !(epoch.is_multiple_of(cfg.train.checkpoint_every) || epoch == epochs) {
        return Ok(None);
    }
    let failed = |reason| KilnError::Checkpoint { path: paths.checkpoints(), reason };
    let model_bytes = checkpoint::model_bytes(model).map_err(failed)?;
    let optim_bytes = optimizer.state_bytes().map_err(failed)?;
    Ok(Some(checkpoint::save(&paths.checkpoints(), state, &model_bytes, &optim_bytes)?))
}

/// The error for a NaN or infinite loss, saying where the last good checkpoint is.
pub(crate) fn non_finite_loss(
    value: f64,
    epoch: usize,
    step: usize,
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
    KilnError::NonFiniteLoss { value, epoch, step, kept }
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

/// The augmentation seed of batch `index` of `epoch`: independent of when the run was resumed.
pub(crate) fn batch_seed(seed: u64, epoch: usize, index: usize) -> u64 {
    seed ^ ((epoch as u64) << 32 | index as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93)
}
