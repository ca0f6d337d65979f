//! The experiment file's sections. Unknown keys are rejected everywhere; model parameters are
//! checked against the chosen model's own config by the registry.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    pub experiment: ExperimentSection,
    /// What kind of model is trained; `classification` when left out.
    #[serde(default)]
    pub task: TaskSection,
    pub model: ModelSection,
    pub data: DataSection,
    #[serde(default)]
    pub loss: LossSection,
    #[serde(default, skip_serializing_if = "MetricsSection::is_empty")]
    pub metrics: MetricsSection,
    pub optim: OptimSection,
    #[serde(default)]
    pub schedule: ScheduleSection,
    pub train: TrainSection,
    /// Data-parallel settings; read only when `[train] strategy = "ddp"`.
    #[serde(default, skip_serializing_if = "DdpSection::is_default")]
    pub ddp: DdpSection,
    /// How a generative model is sampled for evaluation; read by the diffusion task only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<SamplingSection>,
    /// How detections are suppressed and training canvases augmented; read by the detection task only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection: Option<DetectionSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproduce: Option<ReproduceSection>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSection {
    pub name: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Runs are written to `<output_dir>/<name>/<timestamp>/`.
    #[serde(default = "default_output_dir")]
    pub output_dir: String,
}

/// `name` picks a task (see `kiln_train::task::TASKS`): `classification` or `segmentation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSection {
    #[serde(default = "default_task")]
    pub name: String,
}

impl Default for TaskSection {
    fn default() -> Self {
        Self { name: default_task() }
    }
}

/// `name` picks a registered model; every other key is that model's parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSection {
    pub name: String,
    #[serde(flatten)]
    pub params: toml::Table,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    pub dataset: String,
    pub root: String,
    pub batch_size: usize,
    /// Host threads that prepare batches ahead of the device; 0 prepares them inline.
    #[serde(default = "default_workers")]
    pub num_workers: usize,
    /// Keep only the first N examples of every split (smoke runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Share of the training file held out, stratified by class, for per-epoch validation.
    #[serde(default = "default_valid_fraction")]
    pub valid_fraction: f64,
    /// Training images are translated by up to this many pixels each way (0: no augmentation).
    #[serde(default)]
    pub augment_shift: usize,
    /// After training, also test on the test images resized (bilinear) to each of these square
    /// sizes: `test/accuracy@<size>` in summary.json. For models that take any input size (SPP-net).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eval_sizes: Vec<usize>,
    /// Language models: tokens per training window, the length of truncated back-propagation
    /// through time (the state carries across windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq_len: Option<usize>,
    /// Language models: how text becomes tokens (`char`, or `bpe`: byte-level BPE trained on the
    /// training text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<String>,
    /// Language models with `tokenizer = "bpe"`: tokens in the vocabulary, the 256 bytes included
    /// (default 1024).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vocab_size: Option<usize>,
    /// Word2Vec: an analogy file in word2vec's `questions-words.txt` format, scored after every
    /// epoch and at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analogies: Option<String>,
}

impl DataSection {
    /// The keys of `[data]` only the text tasks (language models, Word2Vec) read, set in a file
    /// for another task.
    pub fn text_keys_set(&self) -> Option<&'static str> {
        if self.seq_len.is_some() {
            Some("seq_len")
        } else if self.tokenizer.is_some() {
            Some("tokenizer")
        } else if self.vocab_size.is_some() {
            Some("vocab_size")
        } else if self.analogies.is_some() {
            Some("analogies")
        } else {
            None
        }
    }
}

/// `name` picks a loss of the task (see `kiln_train::task::classification::loss`); `label_smoothing` and `class_weights` apply to
/// every classification loss (all end in cross-entropy); the other keys are the chosen loss's parameters (a margin head's
/// `scale`, `margin`, …), checked against its config when the file is loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossSection {
    #[serde(default = "default_loss")]
    pub name: String,
    // f64 like every other number in the file, so the run's saved config.toml reads 0.1, not 0.10000000149011612.
    #[serde(default)]
    pub label_smoothing: f64,
    /// Cross-entropy weight of each class (`num_classes` values); every class 1 when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_weights: Option<Vec<f64>>,
    #[serde(flatten)]
    pub params: toml::Table,
}

impl Default for LossSection {
    fn default() -> Self {
        Self { name: default_loss(), label_smoothing: 0.0, class_weights: None, params: toml::Table::new() }
    }
}

/// Metrics computed on every validation and test pass besides loss and accuracy, by name
/// (see `kiln_train::task::classification::metrics`); they appear in the progress display, metrics.csv and summary.json.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    #[serde(default)]
    pub names: Vec<String>,
}

impl MetricsSection {
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerName {
    Sgd,
    Adam,
    Adamw,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimSection {
    pub name: OptimizerName,
    pub lr: f64,
    #[serde(default)]
    pub weight_decay: f64,
    /// Adam/AdamW (β1, β2).
    #[serde(default = "default_betas")]
    pub betas: [f64; 2],
    /// Adam/AdamW ε; PyTorch's default.
    #[serde(default = "default_eps")]
    pub eps: f64,
    /// SGD momentum; 0 is plain SGD.
    #[serde(default)]
    pub momentum: f64,
    #[serde(default)]
    pub nesterov: bool,
    /// Clip the global gradient norm to this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grad_clip: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleName {
    Constant,
    Cosine,
    LinearWarmup,
    WarmupCosine,
    Step,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSection {
    #[serde(default = "default_schedule")]
    pub name: ScheduleName,
    /// cosine, warmup_cosine: the learning rate the cosine part anneals to.
    #[serde(default)]
    pub min_lr: f64,
    /// linear_warmup, warmup_cosine: epochs to ramp from `lr * warmup_start_factor` to `lr`,
    /// then constant (linear_warmup) or cosine annealing to `min_lr` (warmup_cosine).
    #[serde(default = "default_warmup_epochs")]
    pub warmup_epochs: usize,
    #[serde(default = "default_warmup_start_factor")]
    pub warmup_start_factor: f64,
    /// step: multiply the learning rate by `gamma` every `step_epochs` epochs.
    #[serde(default = "default_step_epochs")]
    pub step_epochs: usize,
    #[serde(default = "default_gamma")]
    pub gamma: f64,
}

impl Default for ScheduleSection {
    fn default() -> Self {
        Self {
            name: default_schedule(),
            min_lr: 0.0,
            warmup_epochs: default_warmup_epochs(),
            warmup_start_factor: default_warmup_start_factor(),
            step_epochs: default_step_epochs(),
            gamma: default_gamma(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    Single,
    Ddp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSection {
    pub epochs: usize,
    #[serde(default = "default_backend")]
    pub backend: String,
    /// Which device of the backend trains (`cpu`, `cuda:0`, `mps`, wgpu's `gpu:0`); the backend's
    /// default device when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<crate::backend::DeviceName>,
    /// How many devices (peers) train in this process, or their indices (`[0, 0]` puts two
    /// peers on device 0). `data.batch_size` is per peer, as in PyTorch DDP.
    #[serde(default = "default_devices")]
    pub devices: Devices,
    #[serde(default = "default_strategy")]
    pub strategy: Strategy,
    /// Write a checkpoint every N epochs (the last epoch always gets one).
    #[serde(default = "default_checkpoint_every")]
    pub checkpoint_every: usize,
    /// Read the training figures from the device (and check them for NaN) every N steps and at
    /// the end of every epoch; between reads the device never waits for the host.
    #[serde(default = "default_log_every")]
    pub log_every: usize,
}

/// `devices = 2` (devices 0 and 1; on CPU backends both are the one CPU) or `devices = [0, 0]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Devices {
    Count(usize),
    List(Vec<u16>),
}

impl Devices {
    /// Number of local peers.
    pub fn count(&self) -> usize {
        match self {
            Devices::Count(n) => *n,
            Devices::List(list) => list.len(),
        }
    }

    /// The device index of each local peer.
    pub fn indices(&self) -> Vec<u16> {
        match self {
            Devices::Count(n) => (0..*n as u16).collect(),
            Devices::List(list) => list.clone(),
        }
    }
}

/// An all-reduce algorithm of burn-collective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AllReduceName {
    /// Everything to the first peer, summed there, sent back.
    Centralized,
    /// Summed up a tree of `tree_arity` children per node, sent back down.
    Tree,
    /// Ring all-reduce (Patarasuk & Yuan 2009): bandwidth-optimal for large tensors.
    Ring,
}

/// How a step's gradients travel between replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradientExchange {
    /// Every gradient flattened into one buffer, one reduction per step (PyTorch DDP with one
    /// bucket).
    #[default]
    OneBuffer,
    /// One reduction per parameter tensor (burn-collective's `GradientsParams::all_reduce`), to
    /// measure what the buffer saves.
    PerTensor,
}

/// `[ddp]`: how the devices of a process exchange gradients, and the fault timeout. The
/// processes themselves come from `mpirun`/`srun` (see [`crate::ddp::join_processes`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DdpSection {
    /// Among the peers of one process.
    #[serde(default = "default_all_reduce")]
    pub local_all_reduce: AllReduceName,
    #[serde(default = "default_tree_arity")]
    pub tree_arity: u32,
    #[serde(default)]
    pub exchange: GradientExchange,
    /// A peer or process that does not answer within this many seconds stops every process
    /// (rank 0's validation and checkpoint writing count against it).
    #[serde(default = "default_timeout")]
    pub timeout_seconds: f64,
}

impl Default for DdpSection {
    fn default() -> Self {
        Self {
            local_all_reduce: default_all_reduce(),
            tree_arity: default_tree_arity(),
            exchange: GradientExchange::default(),
            timeout_seconds: default_timeout(),
        }
    }
}

impl DdpSection {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// A sampler and its settings, by the names `kiln sample` takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplerSettings {
    /// ddpm, ddpm-large, ddim, em, pc, ode-euler, ode-heun, edm, edm-euler, rf, rf-heun.
    pub sampler: String,
    pub steps: usize,
    /// DDIM's η in [0, 1].
    #[serde(default)]
    pub eta: f64,
    /// EDM's S_churn (0: deterministic).
    #[serde(default)]
    pub churn: f64,
    /// Classifier-free guidance weight w (class-conditional models; 0: none).
    #[serde(default)]
    pub guidance: f64,
    /// Classifier guidance scale s (needs `[sampling] classifier`; 0: none).
    #[serde(default)]
    pub classifier_scale: f64,
}

/// `[sampling]`: the sampler every validation and test pass draws with, how many samples it
/// scores, the EMA of the weights it samples from, and further samplers scored on the test split
/// (`[sampling.compare.<name>]`, figures `<name>_<metric>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplingSection {
    pub sampler: String,
    pub steps: usize,
    #[serde(default)]
    pub eta: f64,
    #[serde(default)]
    pub churn: f64,
    #[serde(default)]
    pub guidance: f64,
    #[serde(default)]
    pub classifier_scale: f64,
    /// Samples drawn and scored per evaluation.
    #[serde(default = "default_samples")]
    pub samples: usize,
    /// The decay of the weights' exponential moving average that samples are drawn from (0: the
    /// trained weights themselves).
    #[serde(default = "default_ema_decay")]
    pub ema_decay: f64,
    /// Clamp the denoiser's estimate of x₀ to the data's range [−1, 1] at every step
    /// (diffusers' `clip_sample`); digits only, on unless set to false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_sample: Option<bool>,
    /// A trained MNIST classifier run (or a folder of runs: the newest) that scores generated
    /// digits: MNIST-FD in its embedding, the classes it reads in class-conditional samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge: Option<String>,
    /// A trained noise-aware classifier run (task `noisy_classification`, or a folder of runs:
    /// the newest) whose gradient guides samples with `classifier_scale` (classifier guidance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classifier: Option<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub compare: std::collections::BTreeMap<String, SamplerSettings>,
}

impl SamplingSection {
    /// The evaluation sampler's own settings.
    pub fn settings(&self) -> SamplerSettings {
        SamplerSettings {
            sampler: self.sampler.clone(),
            steps: self.steps,
            eta: self.eta,
            churn: self.churn,
            guidance: self.guidance,
            classifier_scale: self.classifier_scale,
        }
    }
}

fn default_samples() -> usize {
    2000
}
fn default_ema_decay() -> f64 {
    0.999
}

/// `[detection]`: the suppression every validation and test pass applies to the detector's raw
/// detections, further suppressions scored on the test split beside it (figures
/// `<suppression>_<metric>`, from the same predictions), and the training augmentation, which
/// moves the boxes with the pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectionSection {
    /// none, nms, soft_nms_linear, soft_nms_gaussian or diou_nms (`kiln_vision::detection::SUPPRESSIONS`).
    #[serde(default = "default_suppression")]
    pub suppression: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compare: Vec<String>,
    /// Detections kept per image, best first (COCO's AR100 counts 100).
    #[serde(default = "default_max_detections")]
    pub max_detections: usize,
    /// Candidates per image the detector hands to the suppression, best first (mmdetection's
    /// `nms_pre`, 1000): a dense detector's many overlapping boxes are what suppression works on.
    #[serde(default = "default_candidates")]
    pub candidates: usize,
    /// Mirror training canvases left to right with probability ½ (off for digits, whose mirror
    /// image is no digit).
    #[serde(default)]
    pub flip: bool,
    /// Rescale training canvases by a factor drawn uniformly from `[low, high]` about their
    /// centre, cropping or padding back to their size; boxes that leave the canvas are clipped,
    /// and dropped when less than half of them remains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_jitter: Option<[f64; 2]>,
}

impl Default for DetectionSection {
    fn default() -> Self {
        Self {
            suppression: default_suppression(),
            compare: Vec::new(),
            max_detections: default_max_detections(),
            candidates: default_candidates(),
            flip: false,
            scale_jitter: None,
        }
    }
}

fn default_suppression() -> String {
    "none".into()
}
fn default_max_detections() -> usize {
    100
}
fn default_candidates() -> usize {
    1000
}

/// The paper's figure this experiment reproduces, and what kiln should reach on its data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReproduceSection {
    /// A key of summary.json's `metrics`, e.g. "test/accuracy".
    pub metric: String,
    /// The paper's number, on the paper's data.
    pub paper: f64,
    /// What this config should reach when its data differs from the paper's (smaller training
    /// set); the verdict compares against it. Defaults to `paper`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<f64>,
    pub tolerance: f64,
    #[serde(default = "default_true")]
    pub higher_is_better: bool,
    /// A claim about an ordering: the verdict is on `metric / versus` (two figures of the same
    /// run, e.g. Heun at 35 NFE over Euler at 70), and `paper`/`expected` are ratios.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versus: Option<String>,
    /// With `versus`: an experiment file (relative to this one, e.g. "mnist-det-fcos.toml")
    /// whose newest completed run supplies the `versus` figure, for an ordering between two
    /// trainings (a method over its baseline, an ablation row over the row before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    pub source: String,
    /// Further claims checked on the same run (`[reproduce.also.<name>]`, each a claim of its
    /// own without further `also`): one trained model, several of a paper's statements.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub also: std::collections::BTreeMap<String, ReproduceSection>,
}

fn default_task() -> String {
    "classification".into()
}
fn default_log_every() -> usize {
    50
}
fn default_seed() -> u64 {
    42
}
fn default_output_dir() -> String {
    "runs".into()
}
fn default_workers() -> usize {
    1
}
fn default_valid_fraction() -> f64 {
    0.1
}
fn default_loss() -> String {
    "cross_entropy".into()
}
fn default_betas() -> [f64; 2] {
    [0.9, 0.999]
}
fn default_eps() -> f64 {
    1e-8
}
fn default_schedule() -> ScheduleName {
    ScheduleName::Constant
}
fn default_warmup_epochs() -> usize {
    1
}
fn default_warmup_start_factor() -> f64 {
    0.1
}
fn default_step_epochs() -> usize {
    10
}
fn default_gamma() -> f64 {
    0.1
}
fn default_backend() -> String {
    crate::backend::DEFAULT_BACKEND.into()
}
fn default_devices() -> Devices {
    Devices::Count(1)
}
fn default_all_reduce() -> AllReduceName {
    AllReduceName::Tree
}
fn default_tree_arity() -> u32 {
    2
}
fn default_timeout() -> f64 {
    60.0
}
fn default_strategy() -> Strategy {
    Strategy::Single
}
fn default_checkpoint_every() -> usize {
    1
}
fn default_true() -> bool {
    true
}
