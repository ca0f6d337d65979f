//! `kiln run`: from a config to a finished run directory.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::backend::{AutodiffBackend, Backend};
use kiln_vision::ImageClassifier;

use crate::backend::{dispatch, BackendTask};
use crate::checkpoint::{self, Checkpoint};
use crate::config::{differing_keys, ExperimentConfig, Strategy};
use crate::ddp::fit_ddp;
use crate::error::{KilnError, Result};
use crate::progress::{Phase, TrainingObserver};
use crate::records::{RunSummary, BURN_VERSION, KILN_VERSION};
use crate::registry::{self, with_classifier, ClassifierTask};
use crate::task::classification::{evaluate, ClassificationData};
use crate::trainer::{fit, RunPaths};

/// Trains the experiment; with `resume`, continues the run in that directory from its newest
/// checkpoint. Returns the summary also written to `summary.json`.
pub fn run_experiment(
    cfg: &ExperimentConfig,
    resume: Option<&Path>,
    observer: &mut dyn TrainingObserver,
) -> Result<RunSummary> {
    check_supported(cfg)?;
    let data = ClassificationData::load(cfg)?;
    let (paths, checkpoint) = match resume {
        Some(dir) => prepare_resume(cfg, dir)?,
        None => (create_run_dir(cfg)?, None),
    };
    let resolved = toml::to_string_pretty(cfg).expect("a loaded config serialises");
    crate::atomic::write_atomic(&paths.config(), resolved.as_bytes())?;
    let job = FitJob { cfg, data: &data, paths: &paths, observer, checkpoint, started: Instant::now() };
    dispatch(&cfg.train.backend, job)?
}

/// Rejects what this build cannot do before any data is read or directory made.
pub fn check_supported(cfg: &ExperimentConfig) -> Result<()> {
    crate::config::check_strategy(cfg).map_err(KilnError::Unsupported)?;
    crate::ddp::check_nodes_supported(cfg)?;
    registry::entry(&cfg.model.name)?;
    let shape = registry::check_params(&cfg.model.name, &cfg.model.params)
        .map_err(|p| KilnError::ModelParams { model: cfg.model.name.clone(), message: p.message })?;
    let in_section = |section: &'static str| {
        move |p: registry::ParamProblem| KilnError::Unsupported(format!("[{section}]: {}", p.message))
    };
    crate::loss::check_loss(&cfg.loss, &shape).map_err(in_section("loss"))?;
    crate::metrics::check_metrics(&cfg.metrics, &shape).map_err(in_section("metrics"))?;
    crate::backend::check_available(&cfg.train.backend)
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
    // Nodes of one run started in the same second on one machine get a directory each.
    let stamp = if cfg.ddp.nodes > 1 { format!("{stamp}-node{}", cfg.ddp.node_rank) } else { stamp };
    let mut dir = parent.join(&stamp);
    let mut n = 2;
    while dir.exists() {
        dir = parent.join(format!("{stamp}-{n}"));
        n += 1;
    }
    std::fs::create_dir_all(&dir).map_err(|e| KilnError::io("cannot create run directory", &dir, e))?;
    Ok(RunPaths::new(dir))
}

/// Keys a resumed run may change: more epochs, another backend or worker count, and the fixes
/// for a diverged run (a lower learning rate, gradient clipping). Anything else makes a new run.
/// Where the other nodes are, and how long to wait for them, may change too.
pub const RESUMABLE_CHANGES: [&str; 9] = [
    "train.epochs",
    "train.backend",
    "train.checkpoint_every",
    "data.num_workers",
    "optim.lr",
    "optim.grad_clip",
    "ddp.orchestrator",
    "ddp.node_address",
    "ddp.timeout_seconds",
];

/// Checks that `dir` is a run of this experiment and loads its newest checkpoint.
fn prepare_resume(cfg: &ExperimentConfig, dir: &Path) -> Result<(RunPaths, Option<Checkpoint>)> {
    let paths = RunPaths::new(dir);
    let bad = |reason: String| KilnError::Resume { path: dir.to_path_buf(), reason };
    let saved_text = std::fs::read_to_string(paths.config())
        .map_err(|e| bad(format!("no readable config.toml ({e}); is this a kiln run directory?")))?;
    let saved: toml::Table = toml::from_str(&saved_text).map_err(|e| bad(format!("config.toml: {e}")))?;
    let current: toml::Table = toml::Table::try_from(cfg).expect("a loaded config serialises");
    let differing: Vec<String> =
        differing_keys(&saved, &current).into_iter().filter(|k| !RESUMABLE_CHANGES.contains(&k.as_str())).collect();
    if !differing.is_empty() {
        return Err(bad(format!("the config differs from the run's config.toml at {}", differing.join(", "))));
    }
    let checkpoint = checkpoint::latest(&paths.checkpoints())?
        .ok_or_else(|| bad("it has no complete checkpoint yet; start a new run instead".into()))?;
    Ok((paths, Some(checkpoint)))
}

struct FitJob<'a> {
    cfg: &'a ExperimentConfig,
    data: &'a ClassificationData,
    paths: &'a RunPaths,
    observer: &'a mut dyn TrainingObserver,
    checkpoint: Option<Checkpoint>,
    started: Instant,
}

impl BackendTask for FitJob<'_> {
    type Output = Result<RunSummary>;

    fn run<B: AutodiffBackend>(self, device: B::Device, backend: &'static str) -> Self::Output {
        B::seed(&device, self.cfg.experiment.seed);
        let cfg = self.cfg;
        with_classifier::<B, _>(
            &cfg.model.name,
            &cfg.model.params,
            &cfg.loss,
            &device.clone(),
            FitModel { job: self, device, backend },
        )?
    }
}

struct FitModel<'a, B: Backend> {
    job: FitJob<'a>,
    device: B::Device,
    backend: &'static str,
}

impl<B: AutodiffBackend> ClassifierTask<B> for FitModel<'_, B> {
    type Output = Result<RunSummary>;

    fn run<M>(self, model: M) -> Self::Output
    where
        M: AutodiffModule<B> + ImageClassifier<B> + 'static,
        M::InnerModule: ImageClassifier<B::InnerBackend>,
    {
        let FitJob { cfg, data, paths, observer, checkpoint, started } = self.job;
        let [channels, _, _] = data.input_shape();
        let eval_shapes = cfg.data.eval_sizes.iter().map(|&size| [channels, size, size]);
        for shape in std::iter::once(data.input_shape()).chain(eval_shapes) {
            model
                .check_input(shape)
                .map_err(|message| KilnError::ModelParams { model: cfg.model.name.clone(), message })?;
        }
        let parameters = kiln_vision::complexity::trainable_parameters(&model);
        let receptive_field = model.receptive_field();
        observer.on_run_start(&paths.dir, self.backend, checkpoint.as_ref().map(|c| c.state.epoch));
        let outcome = match cfg.train.strategy {
            Strategy::Single => fit(model, cfg, data, &self.device, paths, observer, checkpoint),
            Strategy::Ddp => fit_ddp(model, cfg, data, &self.device, paths, observer, checkpoint),
        };
        let summary =
            |status: &str, metrics: BTreeMap<String, f64>, state: &crate::checkpoint::TrainerState| RunSummary {
                experiment: cfg.experiment.name.clone(),
                status: status.into(),
                model: cfg.model.name.clone(),
                parameters,
                metrics,
                backend: self.backend.into(),
                devices: cfg.train.devices.count() * cfg.ddp.nodes,
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
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(error) => {
                // Record the divergence next to the kept checkpoint, then report it.
                if matches!(error, KilnError::NonFiniteLoss { .. }) {
                    if let Ok(Some(ck)) = checkpoint::latest(&paths.checkpoints()) {
                        summary("diverged", history_metrics(&ck.state), &ck.state).write(&paths.summary())?;
                    }
                }
                return Err(error);
            }
        };
        let mut metrics = history_metrics(&outcome.state);
        if let Some(pixels) = receptive_field {
            metrics.insert("model/receptive_field".into(), pixels as f64);
        }
        let inner = outcome.model.valid();
        let test_indices: Vec<usize> = (0..data.test.len()).collect();
        let test = evaluate(
            &inner,
            &data.test,
            &test_indices,
            data,
            cfg,
            &self.device,
            Phase::Test,
            (0, cfg.train.epochs),
            observer,
        )?;
        metrics.insert("test/loss".into(), test.loss);
        metrics.insert("test/accuracy".into(), test.accuracy);
        metrics.extend(test.extra.into_iter().map(|(name, v)| (format!("test/{name}"), v)));
        for &size in &cfg.data.eval_sizes {
            // The same test digits at another input size: SPP-net's one network, any size.
            let resized = data.test.resized(size, size);
            let phase = Phase::TestAtSize(size);
            let at = evaluate(&inner, &resized, &test_indices, data, cfg, &self.device, phase, (0, 0), observer)?;
            metrics.insert(format!("test/loss@{size}"), at.loss);
            metrics.insert(format!("test/accuracy@{size}"), at.accuracy);
        }
        let summary = summary("completed", metrics, &outcome.state);
        summary.write(&paths.summary())?;
        Ok(summary)
    }
}

/// The last epoch's train and validation figures, keyed `<split>/<metric>`.
fn history_metrics(state: &crate::checkpoint::TrainerState) -> BTreeMap<String, f64> {
    let mut metrics = BTreeMap::new();
    if let Some(last) = state.history.last() {
        metrics.insert("train/loss".into(), last.train_loss);
        metrics.insert("train/accuracy".into(), last.train_accuracy);
        if let (Some(loss), Some(acc)) = (last.valid_loss, last.valid_accuracy) {
            metrics.insert("valid/loss".into(), loss);
            metrics.insert("valid/accuracy".into(), acc);
        }
        metrics.extend(last.valid_metrics.iter().map(|(name, v)| (format!("valid/{name}"), *v)));
    }
    metrics
}
