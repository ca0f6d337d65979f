//! `kiln run`: from a config to a finished run directory, for any task.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use burn::tensor::backend::{AutodiffBackend, Backend};

use crate::backend::{dispatch, BackendTask};
use crate::checkpoint::{self, CheckpointReader, TrainerState};
use crate::config::{run_config_changes, ExperimentConfig, Strategy};
use crate::error::{KilnError, Result};
use crate::progress::TrainingObserver;
use crate::records::{keyed, RunSummary, BURN_VERSION, KILN_VERSION};
use crate::task::{with_task, EvalContext, Split, Task, TaskData, TaskJob};
use crate::trainer::{fit, FitSettings, RunPaths};

/// Trains the experiment; with `resume`, continues the run in that directory from its newest
/// checkpoint. Returns the summary also written to `summary.json`.
///
/// Under `mpirun`/`srun` every process calls this with the same config: rank 0 makes the run
/// directory, reports to `observer` and writes the files; the other ranks train silently (their
/// summary has no metrics) and read the run directory only to resume, so it must be on a
/// filesystem every node sees. Call [`crate::ddp::leave_processes`] when done.
pub fn run_experiment(
    cfg: &ExperimentConfig,
    resume: Option<&Path>,
    observer: &mut dyn TrainingObserver,
) -> Result<RunSummary> {
    let processes = crate::ddp::join_processes()?;
    check_supported(cfg)?;
    crate::ddp::check_ranks_agree(cfg, resume)?;
    let data = TaskData::load(cfg)?;
    let (paths, checkpoint) = match resume {
        Some(dir) => prepare_resume(cfg, dir)?,
        None if processes.is_root() => (create_run_dir(cfg)?, None),
        None => (RunPaths::new(""), None),
    };
    // The other ranks learn rank 0's directory, to name it in their errors.
    let timeout = std::time::Duration::from_secs_f64(cfg.ddp.timeout_seconds);
    let dir = paths.dir.display().to_string().into_bytes();
    let dir = crate::ddp::broadcast_from_root(dir, timeout, "sharing the run directory")?;
    let paths = RunPaths::new(String::from_utf8_lossy(&dir).into_owned());
    let mut silent = crate::progress::Silent;
    let observer: &mut dyn TrainingObserver = if processes.is_root() {
        let resolved = toml::to_string_pretty(cfg).expect("a loaded config serialises");
        crate::atomic::write_atomic(&paths.config(), resolved.as_bytes())?;
        observer
    } else {
        &mut silent
    };
    let job = RunOnBackend { cfg, data, paths: &paths, observer, checkpoint, started: Instant::now() };
    dispatch(&cfg.train.backend, cfg.train.device, job)?
}

/// Rejects what this build cannot do before any data is read or directory made (also for
/// configs built in code rather than loaded from a file).
pub fn check_supported(cfg: &ExperimentConfig) -> Result<()> {
    crate::config::check_strategy(cfg).map_err(KilnError::Unsupported)?;
    crate::ddp::check_strategy_spans(crate::ddp::processes(), cfg.train.strategy)?;
    let entry = crate::task::entry(&cfg.task.name).map_err(KilnError::Unsupported)?;
    (entry.check)(cfg).map_err(|p| match p.section {
        "model" => KilnError::ModelParams { model: cfg.model.name.clone(), message: p.problem.message },
        section => KilnError::Unsupported(format!("[{section}]: {}", p.problem.message)),
    })?;
    crate::backend::check_available(&cfg.train.backend)?;
    crate::backend::check_device_present(&cfg.train.backend, cfg.train.device)
}

fn create_run_dir(cfg: &ExperimentConfig) -> Result<RunPaths> {
    let parent = Path::new(&cfg.experiment.output_dir).join(&cfg.experiment.name);
    let stamp: String = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            'T' => Some('-'),
            _ => None,
        })
        .collect();
    let mut dir = parent.join(&stamp);
    let mut n = 2;
    while dir.exists() {
        dir = parent.join(format!("{stamp}-{n}"));
        n += 1;
    }
    std::fs::create_dir_all(&dir).map_err(|e| KilnError::io("cannot create run directory", &dir, e))?;
    Ok(RunPaths::new(dir))
}

/// Keys a resumed run may change: more epochs, another backend or worker count, the logging
/// cadence, and the fixes for a diverged run (a lower learning rate, gradient clipping). Anything
/// else makes a new run. How long to wait for the other processes may change too.
pub const RESUMABLE_CHANGES: [&str; 9] = [
    "train.epochs",
    "train.backend",
    "train.device",
    "train.checkpoint_every",
    "train.log_every",
    "data.num_workers",
    "optim.lr",
    "optim.grad_clip",
    "ddp.timeout_seconds",
];

/// Checks that `dir` is a run of this experiment and opens its newest checkpoint.
fn prepare_resume(cfg: &ExperimentConfig, dir: &Path) -> Result<(RunPaths, Option<CheckpointReader>)> {
    let paths = RunPaths::new(dir);
    let bad = |reason: String| KilnError::Resume { path: dir.to_path_buf(), reason };
    let differing = run_config_changes(&paths.config(), cfg, &RESUMABLE_CHANGES)
        .map_err(|e| bad(format!("{e}; is this a kiln run directory?")))?;
    if !differing.is_empty() {
        return Err(bad(format!("the config differs from the run's config.toml at {}", differing.join(", "))));
    }
    let checkpoint = checkpoint::latest(&paths.checkpoints())?
        .ok_or_else(|| bad("it has no complete checkpoint yet; start a new run instead".into()))?;
    Ok((paths, Some(checkpoint)))
}

struct RunOnBackend<'a> {
    cfg: &'a ExperimentConfig,
    data: TaskData,
    paths: &'a RunPaths,
    observer: &'a mut dyn TrainingObserver,
    checkpoint: Option<CheckpointReader>,
    started: Instant,
}

impl BackendTask for RunOnBackend<'_> {
    type Output = Result<RunSummary>;

    fn run<B: AutodiffBackend>(self, device: B::Device, backend: &'static str) -> Self::Output {
        // Before the model is built: its initial weights come from the seed. The lock is released
        // once `Train::run` has initialised every parameter.
        let rng = crate::backend::rng_lock();
        B::seed(&device, self.cfg.experiment.seed);
        let RunOnBackend { cfg, data, paths, observer, checkpoint, started } = self;
        let job = Train { cfg, paths, observer, checkpoint, started, device: device.clone(), backend, rng };
        with_task::<B, _>(cfg, data, &device, job)
    }
}

struct Train<'a, B: Backend> {
    cfg: &'a ExperimentConfig,
    paths: &'a RunPaths,
    observer: &'a mut dyn TrainingObserver,
    checkpoint: Option<CheckpointReader>,
    started: Instant,
    device: B::Device,
    backend: &'static str,
    /// Held until the model's parameters are initialised.
    rng: std::sync::MutexGuard<'static, ()>,
}

impl<B: AutodiffBackend> TaskJob<B> for Train<'_, B> {
    type Output = RunSummary;

    fn run<T: Task<B>>(self, task: T, model: T::Model) -> Result<RunSummary> {
        let Train { cfg, paths, observer, checkpoint, started, device, backend, rng } = self;
        // Initialises every parameter, in module order, while the generator is still this run's.
        let model = crate::ddp::number_parameters(model);
        drop(rng);
        let parameters = kiln_vision::complexity::trainable_parameters(&model);
        let facts = task.model_facts(&model);
        observer.on_run_start(&paths.dir, backend, checkpoint.as_ref().map(|c| c.state.epoch));
        let settings = FitSettings::from_config(cfg);
        let summary = |status: &str, metrics: BTreeMap<String, f64>, state: &TrainerState| RunSummary {
            experiment: cfg.experiment.name.clone(),
            task: cfg.task.name.clone(),
            status: status.into(),
            model: cfg.model.name.clone(),
            parameters,
            metrics,
            backend: backend.into(),
            devices: cfg.train.devices.count() * crate::ddp::processes().size,
            strategy: match cfg.train.strategy {
                Strategy::Single => "single".into(),
                Strategy::Ddp => "ddp".into(),
            },
            epochs_completed: state.epoch,
            wall_seconds: started.elapsed().as_secs_f64(),
            samples_per_second: state.samples_seen as f64 / state.train_seconds.max(1e-9),
            seed: cfg.experiment.seed,
            kiln_version: KILN_VERSION.into(),
            burn_version: BURN_VERSION.into(),
            run_dir: paths.dir.display().to_string(),
        };
        let outcome = match fit(&task, model, &settings, &device, paths, observer, checkpoint) {
            Ok(outcome) => outcome,
            Err(error) => {
                // Record the divergence next to the kept checkpoint, then report it.
                if matches!(error, KilnError::NonFiniteLoss { .. }) && crate::ddp::processes().is_root() {
                    if let Ok(Some(ck)) = checkpoint::latest(&paths.checkpoints()) {
                        summary("diverged", history_metrics(&ck.state), &ck.state).write(&paths.summary())?;
                    }
                }
                return Err(error);
            }
        };
        if !crate::ddp::processes().is_root() {
            // Rank 0 tests the model and writes the summary; this rank's part is done.
            return Ok(summary("completed", BTreeMap::new(), &outcome.state));
        }
        let mut metrics = history_metrics(&outcome.state);
        metrics.extend(keyed("model", &facts));
        let mut ctx =
            EvalContext::new(&device, cfg.data.batch_size, cfg.data.num_workers, (0, cfg.train.epochs), observer);
        let test = task.evaluate(&outcome.model, Split::Test, &mut ctx)?;
        crate::figure_plot::write_all(&paths.dir, &task.test_plots(&test));
        metrics.extend(keyed("test", &test));
        let summary = summary("completed", metrics, &outcome.state);
        summary.write(&paths.summary())?;
        Ok(summary)
    }
}

/// The last epoch's train and validation figures, keyed `<split>/<figure>`.
fn history_metrics(state: &TrainerState) -> BTreeMap<String, f64> {
    let mut metrics = BTreeMap::new();
    if let Some(last) = state.history.last() {
        metrics.extend(keyed("train", &last.train));
        metrics.extend(keyed("valid", &last.valid));
    }
    metrics
}
