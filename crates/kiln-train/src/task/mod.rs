//! Tasks: how a batch becomes losses, gradients and figures. The loop ([`crate::trainer`]) and
//! the strategy beneath it ([`crate::strategy`]) never know which task runs.
//!
//! A task owns its data and builds host batches on the data workers; it owns its optimizer set
//! and runs whole training steps, asking the [`StepContext`] for gradients (so that DDP can
//! all-reduce them underneath), and it evaluates a split, which may mean predicting or sampling.
//! It reports named figures (`loss`, `accuracy`, `d_loss`, `mean_iou`, …), never fixed fields.
//! `docs/design/tasks.md` shows the step shapes this serves: one loss, a GAN's two optimizers, an
//! EMA copy of the weights, and state carried across batches.

pub mod classification;
pub mod context;
pub mod detection;
pub mod diffusion;
pub mod language_model;
pub mod segmentation;
pub mod seq2seq;
mod tokenizer_file;
pub mod word2vec;

use std::path::Path;

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;

use crate::checkpoint::{CheckpointReader, CheckpointWriter};
use crate::config::ExperimentConfig;
use crate::config::ParamProblem;
use crate::error::{KilnError, Result};
use crate::figures::Figures;

pub use context::{EvalContext, EvalPass, StepContext};
pub use kiln_sequence::generate::Sampling;

/// A split of a task's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Split {
    Train,
    Valid,
    Test,
}

impl Split {
    /// The prefix of its figures in metrics.csv (`train_loss`) and summary.json (`train/loss`).
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test => "test",
        }
    }

    /// How a pass over the split shows in the progress display.
    pub fn phase(self) -> crate::progress::Phase {
        use crate::progress::Phase;
        match self {
            Split::Train => Phase::Train,
            Split::Valid => Phase::Valid,
            Split::Test => Phase::Test,
        }
    }
}

/// Which training batch a host batch is: the same on every rank and after a resume, so that
/// augmentation and noise drawn from [`BatchKey::seed`] are reproducible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchKey {
    /// The experiment's seed.
    pub seed: u64,
    /// 1-based.
    pub epoch: usize,
    /// Position among all ranks' batches of the epoch: `step · world + rank`.
    pub index: usize,
}

impl BatchKey {
    /// A seed for this batch alone, independent of when the run was resumed.
    pub fn seed(&self) -> u64 {
        self.seed ^ ((self.epoch as u64) << 32 | self.index as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93)
    }
}

/// One kind of model training: classification, segmentation, a GAN, a language model, ….
///
/// `B` is the autodiff backend the run was monomorphised for. The loop calls, per epoch,
/// [`train_batch`](Task::train_batch) on worker threads for its shard of
/// [`train_examples`](Task::train_examples), [`train_step`](Task::train_step) and
/// [`after_step`](Task::after_step) for each batch, then [`evaluate`](Task::evaluate) on the
/// validation split; checkpoints go through [`save`](Task::save) and [`load`](Task::load).
pub trait Task<B: AutodiffBackend>: Sync {
    /// Everything trained or carried: one net, a (generator, discriminator) pair, a net and
    /// its EMA copy, ….
    type Model: AutodiffModule<B> + 'static;
    /// The task's named optimizers, with their state.
    type Optimizers;
    /// A batch in host memory, built on a data worker.
    type Batch: Send;
    /// State carried from one batch to the next within an epoch (a recurrent net's hidden state
    /// under truncated BPTT); `Default` at the start of every epoch. `()` for most tasks.
    type Carry: Default;

    /// Fresh optimizers for `model`; their state comes from a checkpoint through [`Task::load`].
    fn optimizers(&self) -> Self::Optimizers;

    /// The training examples by index; the loop shuffles them each epoch (unless
    /// [`Task::shuffle`] says not to), cuts them into batches and shards them among DDP ranks.
    fn train_examples(&self) -> Vec<usize>;

    /// Whether the training order is shuffled each epoch; a task that carries state across
    /// batches keeps its streams in order.
    fn shuffle(&self) -> bool {
        true
    }

    /// The host batch of `indices` (runs on a data worker thread).
    fn train_batch(&self, indices: &[usize], key: BatchKey) -> Self::Batch;

    /// One optimizer step (or several: a GAN's discriminator then generator) on `batch`.
    /// Gradients come from [`StepContext::grads`]; figures go to [`StepContext::record`].
    fn train_step(
        &self,
        model: Self::Model,
        optimizers: &mut Self::Optimizers,
        batch: Self::Batch,
        carry: &mut Self::Carry,
        ctx: &mut StepContext<'_, B>,
    ) -> Result<Self::Model>;

    /// Runs after every optimizer step with the 0-based global step: an EMA update.
    fn after_step(&self, model: Self::Model, step: usize) -> Self::Model {
        let _ = step;
        model
    }

    /// Whether the task has data for `split` (no validation split when `valid_fraction = 0`).
    fn has_split(&self, split: Split) -> bool;

    /// The figures of `split` (no gradients): predictions scored, or samples drawn and scored.
    fn evaluate(
        &self,
        model: &Self::Model,
        split: Split,
        ctx: &mut EvalContext<'_, B::InnerBackend>,
    ) -> Result<Figures>;

    /// Plots of the final test's figures, drawn into the run directory (a guidance curve); none
    /// for most tasks.
    fn test_plots(&self, test: &Figures) -> Vec<crate::figure_plot::FigurePlot> {
        let _ = test;
        Vec::new()
    }

    /// Facts about the model for summary.json's `model/<name>` (a receptive field).
    fn model_facts(&self, model: &Self::Model) -> Figures {
        let _ = model;
        Figures::new()
    }

    /// Writes the named modules (`model`, `ema`, `generator`, …) and optimizers.
    fn save(&self, model: &Self::Model, optimizers: &Self::Optimizers, out: &mut CheckpointWriter) -> Result<()>;

    /// Reads back what [`Task::save`] wrote into freshly built `model` and `optimizers`.
    fn load(
        &self,
        model: Self::Model,
        optimizers: Self::Optimizers,
        from: &CheckpointReader,
        device: &B::Device,
    ) -> Result<(Self::Model, Self::Optimizers)>;

    /// A batch of `batch_size` random examples of the data's shape, for `kiln bench`.
    fn synthetic_batch(&self, batch_size: usize, seed: u64) -> Self::Batch;

    /// `kiln predict`: reads `input`, writes the prediction to `output`, and says in a line what
    /// was predicted. Tasks without a file-to-file prediction refuse.
    fn predict(&self, model: &Self::Model, input: &Path, output: &Path, device: &B::Device) -> Result<String> {
        let _ = (model, input, output, device);
        Err(KilnError::Unsupported("this task has no `kiln predict` (it reads no single input file)".into()))
    }

    /// `kiln generate`: answers `request.prompt` (a language model continues it and emits the
    /// prompt first; a seq2seq model writes its target), handing each piece of text to `emit`
    /// as it is drawn; returns the text generated. Tasks whose models do not generate refuse.
    fn generate(
        &self,
        model: &Self::Model,
        request: &GenerateRequest,
        device: &B::Device,
        emit: &mut dyn FnMut(&str),
    ) -> Result<String> {
        let _ = (model, request, device, emit);
        Err(KilnError::Unsupported("this task has no `kiln generate` (its model does not produce text)".into()))
    }

    /// `kiln sample`: draws `request.n` samples with the requested sampler, writes them to
    /// `output` (a PNG, or CSV points), telling `progress` `(done, total)` per network
    /// evaluation; says in a line what was drawn. Tasks whose models do not sample refuse.
    fn sample(
        &self,
        model: &Self::Model,
        request: &SampleRequest,
        output: &Path,
        device: &B::Device,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<String> {
        let _ = (model, request, output, device, progress);
        Err(KilnError::Unsupported("this task has no `kiln sample` (it trains no generative model)".into()))
    }

    /// `kiln similar` / `kiln analogy`: words with their cosine similarity. Tasks without word
    /// vectors refuse.
    fn words(&self, model: &Self::Model, query: &WordQuery) -> Result<Vec<(String, f64)>> {
        let _ = (model, query);
        Err(KilnError::Unsupported(
            "this task has no word vectors to query (`kiln similar` and `kiln analogy` are for word2vec runs)".into(),
        ))
    }
}

/// What `kiln similar` and `kiln analogy` ask of a Word2Vec run.
#[derive(Debug, Clone)]
pub enum WordQuery {
    /// The `top` nearest neighbours of `word`.
    Similar { word: String, top: usize },
    /// The `top` answers to "`a` is to `b` as `c` is to ?".
    Analogy { a: String, b: String, c: String, top: usize },
}

/// What `kiln sample` asks of a generative run.
#[derive(Debug, Clone)]
pub struct SampleRequest {
    pub settings: crate::config::SamplerSettings,
    pub n: usize,
    /// The class of every sample (class-conditional models).
    pub class: Option<usize>,
    pub seed: u64,
}

/// What `kiln generate` asks of a language model.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    pub prompt: String,
    pub max_tokens: usize,
    pub sampling: Sampling,
    pub seed: u64,
    /// Beam search of this width instead of sampling (the whole continuation at once).
    pub beam: Option<usize>,
}

/// The tasks an experiment's `[task] name` can pick, each with the check of its own sections.
pub struct TaskEntry {
    pub name: &'static str,
    pub summary: &'static str,
    /// Checks `[model]`, `[data]`, `[loss]` and `[metrics]` for this task; the problem names its
    /// section and key.
    pub check: fn(&ExperimentConfig) -> std::result::Result<(), SectionProblem>,
}

/// A problem in one section of the experiment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionProblem {
    pub section: &'static str,
    pub problem: ParamProblem,
}

impl SectionProblem {
    pub fn new(section: &'static str, problem: ParamProblem) -> Self {
        Self { section, problem }
    }
}

pub const TASKS: &[TaskEntry] = &[
    classification::ENTRY,
    segmentation::ENTRY,
    detection::ENTRY,
    language_model::ENTRY,
    seq2seq::ENTRY,
    word2vec::ENTRY,
    diffusion::ENTRY,
    diffusion::noisy_classification::ENTRY,
];

/// The entry of `[task] name`.
pub fn entry(name: &str) -> std::result::Result<&'static TaskEntry, String> {
    TASKS.iter().find(|t| t.name == name).ok_or_else(|| {
        let names: Vec<&str> = TASKS.iter().map(|t| t.name).collect();
        let hint = crate::config::closest(name, names.iter().copied())
            .map(|s| format!("; did you mean '{s}'?"))
            .unwrap_or_default();
        format!("unknown task '{name}' in [task] (known: {}){hint}", names.join(", "))
    })
}

/// Refuses the `[data]` keys only the text tasks read, in another task's file.
fn refuse_text_keys(cfg: &ExperimentConfig) -> std::result::Result<(), SectionProblem> {
    match cfg.data.text_keys_set() {
        None => Ok(()),
        Some(key) => Err(SectionProblem::new(
            "data",
            ParamProblem {
                key: Some(key.into()),
                message: format!(
                    "'{key}' is read by the text tasks (language_model, seq2seq, word2vec) only; this is a {} experiment",
                    cfg.task.name
                ),
            },
        )),
    }
}

/// Work to do with the task and model an experiment describes, whatever their types.
pub trait TaskJob<B: AutodiffBackend> {
    type Output;
    fn run<T: Task<B>>(self, task: T, model: T::Model) -> Result<Self::Output>;
}

/// A task's data, read before any run directory is made (so a missing dataset leaves nothing).
pub enum TaskData {
    Classification(classification::ClassificationData),
    Segmentation(segmentation::SegmentationData),
    Detection(detection::DetectionData),
    LanguageModel(language_model::TextData),
    Seq2Seq(seq2seq::PairData),
    Word2Vec(word2vec::Word2VecData),
    Diffusion(diffusion::DiffusionData),
}

impl TaskData {
    pub fn load(cfg: &ExperimentConfig) -> Result<Self> {
        Ok(match cfg.task.name.as_str() {
            "segmentation" => {
                let classes = segmentation::models::classes(&cfg.model.name, &cfg.model.params)?;
                let loss = segmentation::SegmentationLoss::from_section(&cfg.loss)
                    .map_err(|p| KilnError::Unsupported(format!("[loss]: {}", p.message)))?;
                TaskData::Segmentation(segmentation::SegmentationData::load(cfg, classes, loss.ignore_index)?)
            }
            "detection" => {
                let classes = detection::classes(&cfg.model.name, &cfg.model.params)?;
                TaskData::Detection(detection::DetectionData::load(cfg, classes)?)
            }
            "language_model" => TaskData::LanguageModel(language_model::TextData::load(cfg)?),
            "seq2seq" => TaskData::Seq2Seq(seq2seq::PairData::load(cfg)?),
            "word2vec" => TaskData::Word2Vec(word2vec::Word2VecData::load(cfg)?),
            "diffusion" | "noisy_classification" => TaskData::Diffusion(diffusion::DiffusionData::load(cfg)?),
            _ => TaskData::Classification(classification::ClassificationData::load(cfg)?),
        })
    }
}

/// Builds the task and model of `cfg` on `device` and runs `job` with them: the one place that
/// maps `[task] name` to types.
pub fn with_task<B: AutodiffBackend, J: TaskJob<B>>(
    cfg: &ExperimentConfig,
    data: TaskData,
    device: &B::Device,
    job: J,
) -> Result<J::Output> {
    match data {
        TaskData::Classification(data) => classification::with_classifier::<B, _>(
            &cfg.model.name,
            &cfg.model.params,
            &cfg.loss,
            device,
            classification::Assemble { cfg, data, job },
        )?,
        TaskData::Segmentation(data) => crate::registry::with_segmenter_model::<B, _>(
            &cfg.model.name,
            &cfg.model.params,
            device,
            segmentation::Assemble { cfg, data, job },
        )?,
        TaskData::Detection(data) => crate::registry::with_detector_model::<B, _>(
            &cfg.model.name,
            &cfg.model.params,
            device,
            detection::Assemble { cfg, data, job },
        )?,
        TaskData::LanguageModel(data) => language_model::assemble::<B, J>(cfg, data, device, job),
        TaskData::Seq2Seq(data) => seq2seq::assemble::<B, J>(cfg, data, device, job),
        TaskData::Word2Vec(data) => word2vec::assemble::<B, J>(cfg, data, device, job),
        TaskData::Diffusion(data) => diffusion::assemble::<B, J>(cfg, data, device, job),
    }
}
