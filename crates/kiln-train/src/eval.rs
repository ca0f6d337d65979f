//! `kiln eval <run-dir>`, `kiln predict <run-dir>` and `kiln generate <run-dir>`: the newest
//! checkpoint of a run, evaluated again, applied to one input file, or continuing a prompt.

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::backend::{AutodiffBackend, Backend};

use crate::backend::{dispatch, BackendTask};
use crate::checkpoint::{self, CheckpointReader};
use crate::config::{load_experiment, ExperimentConfig};
use crate::error::{KilnError, Result};
use crate::progress::TrainingObserver;
use crate::records::keyed;
use crate::task::{with_task, EvalContext, GenerateRequest, SampleRequest, Split, Task, TaskData, TaskJob, WordQuery};
use crate::trainer::RunPaths;

/// The run's config (on `backend` when given) and its newest checkpoint.
fn open_run(run_dir: &Path, backend: Option<&str>) -> Result<(ExperimentConfig, CheckpointReader)> {
    let paths = RunPaths::new(run_dir);
    let mut cfg = load_experiment(&paths.config(), &[])?;
    if let Some(b) = backend {
        cfg.train.backend = b.to_string();
    }
    crate::backend::check_available(&cfg.train.backend)?;
    let ck = checkpoint::latest(&paths.checkpoints())?.ok_or_else(|| KilnError::Resume {
        path: run_dir.to_path_buf(),
        reason: "it has no checkpoint to evaluate".into(),
    })?;
    Ok((cfg, ck))
}

/// Validation and test figures of the newest checkpoint in `run_dir`, on `backend` or the run's
/// own, keyed `<split>/<figure>`. A detection run can be re-scored with another `suppression`
/// (`kiln eval --suppression soft_nms_gaussian`) from the same weights, without retraining.
pub fn evaluate_run(
    run_dir: &Path,
    backend: Option<&str>,
    suppression: Option<&str>,
    observer: &mut dyn TrainingObserver,
) -> Result<BTreeMap<String, f64>> {
    let (mut cfg, ck) = open_run(run_dir, backend)?;
    if let Some(name) = suppression {
        if cfg.task.name != "detection" {
            return Err(KilnError::Unsupported(format!(
                "--suppression re-scores detection runs; '{}' is a {} run",
                run_dir.display(),
                cfg.task.name
            )));
        }
        kiln_vision::detection::Suppression::from_name(name)
            .map_err(|e| KilnError::Unsupported(format!("--suppression: {e}")))?;
        cfg.detection.get_or_insert_with(Default::default).suppression = name.to_string();
    }
    let data = TaskData::load(&cfg)?;
    match dispatch(
        &cfg.train.backend.clone(),
        cfg.train.device,
        OnBackend { cfg: &cfg, data, ck, action: Action::Evaluate { observer, run_dir } },
    )?? {
        Outcome::Figures(figures) => Ok(figures),
        _ => unreachable!("an evaluation answers with figures"),
    }
}

/// Applies the newest checkpoint in `run_dir` to `input`, writing `output` (a segmentation
/// run writes the predicted label map as a colour overlay); returns what was predicted.
pub fn predict_run(run_dir: &Path, input: &Path, output: &Path, backend: Option<&str>) -> Result<String> {
    let (cfg, ck) = open_run(run_dir, backend)?;
    let data = TaskData::load(&cfg)?;
    let action = Action::Predict { input, output };
    match dispatch(&cfg.train.backend.clone(), cfg.train.device, OnBackend { cfg: &cfg, data, ck, action })?? {
        Outcome::Prediction(line) => Ok(line),
        _ => unreachable!("a prediction answers with its description"),
    }
}

/// Continues `request.prompt` with the newest checkpoint of a language-model run in `run_dir`,
/// handing each piece of text to `emit` as it is drawn; returns the whole continuation.
pub fn generate_run(
    run_dir: &Path,
    request: &GenerateRequest,
    backend: Option<&str>,
    emit: &mut dyn FnMut(&str),
) -> Result<String> {
    let (cfg, ck) = open_run(run_dir, backend)?;
    let data = TaskData::load(&cfg)?;
    let action = Action::Generate { request, emit };
    match dispatch(&cfg.train.backend.clone(), cfg.train.device, OnBackend { cfg: &cfg, data, ck, action })?? {
        Outcome::Prediction(text) => Ok(text),
        _ => unreachable!("generation answers with its text"),
    }
}

/// Draws samples from the newest checkpoint of a generative run in `run_dir` into `output`,
/// telling `progress` `(done, total)` per network evaluation; returns what was drawn.
pub fn sample_run(
    run_dir: &Path,
    request: &SampleRequest,
    output: &Path,
    backend: Option<&str>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<String> {
    let (cfg, ck) = open_run(run_dir, backend)?;
    let data = TaskData::load(&cfg)?;
    let action = Action::Sample { request, output, progress };
    match dispatch(&cfg.train.backend.clone(), cfg.train.device, OnBackend { cfg: &cfg, data, ck, action })?? {
        Outcome::Prediction(line) => Ok(line),
        _ => unreachable!("sampling answers with its description"),
    }
}

/// Answers `query` (nearest neighbours or an analogy) from the newest checkpoint of a Word2Vec
/// run in `run_dir`: words with their cosine similarity.
pub fn query_words_run(run_dir: &Path, query: &WordQuery, backend: Option<&str>) -> Result<Vec<(String, f64)>> {
    let (cfg, ck) = open_run(run_dir, backend)?;
    let data = TaskData::load(&cfg)?;
    let action = Action::Words(query);
    match dispatch(&cfg.train.backend.clone(), cfg.train.device, OnBackend { cfg: &cfg, data, ck, action })?? {
        Outcome::Words(words) => Ok(words),
        _ => unreachable!("a word query answers with words"),
    }
}

/// What an [`Action`] gives back.
enum Outcome {
    Figures(BTreeMap<String, f64>),
    /// The task's one-line description of what it predicted.
    Prediction(String),
    Words(Vec<(String, f64)>),
}

enum Action<'a> {
    /// Figures of the valid and test splits; the test plots are redrawn in `run_dir`.
    Evaluate {
        observer: &'a mut dyn TrainingObserver,
        run_dir: &'a Path,
    },
    Predict {
        input: &'a Path,
        output: &'a Path,
    },
    Generate {
        request: &'a GenerateRequest,
        emit: &'a mut dyn FnMut(&str),
    },
    Words(&'a WordQuery),
    Sample {
        request: &'a SampleRequest,
        output: &'a Path,
        progress: &'a mut dyn FnMut(usize, usize),
    },
}

struct OnBackend<'a> {
    cfg: &'a ExperimentConfig,
    data: TaskData,
    ck: CheckpointReader,
    action: Action<'a>,
}

impl BackendTask for OnBackend<'_> {
    type Output = Result<Outcome>;
    fn run<B: AutodiffBackend>(self, device: B::Device, _backend: &'static str) -> Self::Output {
        let OnBackend { cfg, data, ck, action } = self;
        with_task::<B, _>(cfg, data, &device.clone(), FromCheckpoint { cfg, ck, action, device })
    }
}

struct FromCheckpoint<'a, B: Backend> {
    cfg: &'a ExperimentConfig,
    ck: CheckpointReader,
    action: Action<'a>,
    device: B::Device,
}

impl<B: AutodiffBackend> TaskJob<B> for FromCheckpoint<'_, B> {
    type Output = Outcome;

    fn run<T: Task<B>>(self, task: T, model: T::Model) -> Result<Self::Output> {
        let FromCheckpoint { cfg, ck, action, device } = self;
        let model = crate::ddp::number_parameters(model);
        let (model, _) = task.load(model, task.optimizers(), &ck, &device)?;
        match action {
            Action::Predict { input, output } => Ok(Outcome::Prediction(task.predict(&model, input, output, &device)?)),
            Action::Words(query) => Ok(Outcome::Words(task.words(&model, query)?)),
            Action::Sample { request, output, progress } => {
                Ok(Outcome::Prediction(task.sample(&model, request, output, &device, progress)?))
            }
            Action::Generate { request, emit } => {
                Ok(Outcome::Prediction(task.generate(&model, request, &device, emit)?))
            }
            Action::Evaluate { observer, run_dir } => {
                let epochs = cfg.train.epochs;
                let mut metrics = BTreeMap::new();
                let (bs, workers) = (cfg.data.batch_size, cfg.data.num_workers);
                for (split, epoch) in [(Split::Valid, epochs), (Split::Test, 0)] {
                    if task.has_split(split) {
                        let mut ctx = EvalContext::new(&device, bs, workers, (epoch, epochs), &mut *observer);
                        let figures = task.evaluate(&model, split, &mut ctx)?;
                        if split == Split::Test {
                            crate::figure_plot::write_all(run_dir, &task.test_plots(&figures));
                        }
                        metrics.extend(keyed(split.name(), &figures));
                    }
                }
                Ok(Outcome::Figures(metrics))
            }
        }
    }
}
