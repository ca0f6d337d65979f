//! Image classification: images in, class logits out, cross-entropy (or a margin head's), with
//! accuracy and the `[metrics]` names on every validation and test pass.

pub mod data;
pub mod loss;
pub mod metrics;
pub mod model;

use std::marker::PhantomData;

use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use kiln_data::{HostImageBatch, MnistDataset};
use kiln_vision::ImageClassifier;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

pub use data::{ClassificationData, DATASETS};
use metrics::ClassificationMetrics;
pub use model::{check_model, with_classifier, ClassifierJob, ModelShape, EMBEDDING_DIM};

use super::{BatchKey, EvalContext, SectionProblem, Split, StepContext, Task, TaskEntry};
use crate::checkpoint::{CheckpointReader, CheckpointWriter};
use crate::config::{ExperimentConfig, LossSection, MetricsSection, OptimSection, ParamProblem};
use crate::error::{KilnError, Result};
use crate::figures::{FigureMeter, Figures};
use crate::optimizer::AnyOptimizer;
use crate::progress::Phase;

pub const ENTRY: TaskEntry = TaskEntry {
    name: "classification",
    summary: "image classification: cross-entropy or a margin head, accuracy and [metrics]",
    check,
};

/// Checks `[data]`, `[model]`, `[loss]` and `[metrics]` for classification.
fn check(cfg: &ExperimentConfig) -> std::result::Result<(), SectionProblem> {
    super::refuse_text_keys(cfg)?;
    data::check_dataset(&cfg.data.dataset)
        .map_err(|message| SectionProblem::new("data", ParamProblem { key: Some("dataset".into()), message }))?;
    let shape = check_model(&cfg.model.name, &cfg.model.params).map_err(|p| SectionProblem::new("model", p))?;
    loss::check_loss(&cfg.loss, &shape).map_err(|p| SectionProblem::new("loss", p))?;
    metrics::check_metrics(&cfg.metrics, &shape).map_err(|p| SectionProblem::new("metrics", p))
}

/// The classification task of one experiment, for classifiers of type `M`.
pub struct ClassificationTask<M> {
    /// `None` for `kiln bench`, which trains on synthetic batches only.
    data: Option<ClassificationData>,
    input: [usize; 3],
    classes: usize,
    loss: LossSection,
    metrics: MetricsSection,
    optim: OptimSection,
    augment_shift: usize,
    eval_sizes: Vec<usize>,
    _model: PhantomData<fn() -> M>,
}

impl<M> ClassificationTask<M> {
    pub fn new(cfg: &ExperimentConfig, data: ClassificationData) -> Self {
        Self {
            input: data.input_shape(),
            data: Some(data),
            // Only synthetic batches (`kiln bench`) draw labels from it.
            classes: 0,
            loss: cfg.loss.clone(),
            metrics: cfg.metrics.clone(),
            optim: cfg.optim.clone(),
            augment_shift: cfg.data.augment_shift,
            eval_sizes: cfg.data.eval_sizes.clone(),
            _model: PhantomData,
        }
    }

    /// A task without data for `kiln bench`: random images of `input`, `classes` classes.
    pub fn synthetic(input: [usize; 3], classes: usize, optim: OptimSection) -> Self {
        Self {
            data: None,
            input,
            classes,
            loss: LossSection::default(),
            metrics: MetricsSection::default(),
            optim,
            augment_shift: 0,
            eval_sizes: Vec::new(),
            _model: PhantomData,
        }
    }

    pub fn data(&self) -> Option<&ClassificationData> {
        self.data.as_ref()
    }

    fn data_or_panic(&self) -> &ClassificationData {
        self.data.as_ref().expect("a task built by ClassificationTask::synthetic is only benchmarked")
    }

    /// Loss, accuracy and `[metrics]` of `model` on `indices` of `dataset`.
    fn pass<B: Backend, C: ImageClassifier<B>>(
        &self,
        model: &C,
        dataset: &MnistDataset,
        indices: &[usize],
        phase: Phase,
        ctx: &mut EvalContext<'_, B>,
    ) -> Result<Figures> {
        let data = self.data_or_panic();
        let device = ctx.device;
        let loss_fn = loss::cross_entropy(&self.loss).init::<B>(device);
        let mut extra = ClassificationMetrics::new(&self.metrics);
        let mut pass = ctx.begin(phase, indices.len());
        pass.run(
            indices,
            |chunk| data.batcher.host_batch(dataset, chunk),
            |host, meter| {
                let batch = host.to_device::<B>(device);
                let embeddings = if extra.wants_embeddings() { model.embeddings(batch.images.clone()) } else { None };
                let logits = model.logits(batch.images);
                record_loss_and_accuracy(meter, &loss_fn, logits.clone(), batch.targets.clone());
                extra.update(logits, batch.targets, embeddings);
                Ok(())
            },
        )?;
        pass.end(extra.values().into_iter().collect())
    }
}

/// Adds the batch's mean cross-entropy and accuracy to `meter`; no host read.
fn record_loss_and_accuracy<B: Backend>(
    meter: &mut FigureMeter<B>,
    loss_fn: &kiln_losses::CrossEntropy<B>,
    logits: Tensor<B, 2>,
    targets: Tensor<B, 1, Int>,
) {
    let n = targets.dims()[0];
    meter.add("loss", loss_fn.forward(logits.clone(), targets.clone()), n);
    meter.add("accuracy", correct_fraction(logits, targets), n);
}

/// The fraction of rows whose largest logit is the target's, as a one-element tensor.
fn correct_fraction<B: Backend>(logits: Tensor<B, 2>, targets: Tensor<B, 1, Int>) -> Tensor<B, 1> {
    let n = targets.dims()[0];
    logits.argmax(1).reshape([n]).equal(targets).float().mean()
}

impl<B, M> Task<B> for ClassificationTask<M>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + ImageClassifier<B> + 'static,
    M::InnerModule: ImageClassifier<B::InnerBackend>,
{
    type Model = M;
    type Optimizers = AnyOptimizer<M, B>;
    type Batch = HostImageBatch;
    type Carry = ();

    fn optimizers(&self) -> Self::Optimizers {
        AnyOptimizer::new(&self.optim)
    }

    fn train_examples(&self) -> Vec<usize> {
        self.data.as_ref().map(|d| d.train_indices.clone()).unwrap_or_default()
    }

    fn train_batch(&self, indices: &[usize], key: BatchKey) -> HostImageBatch {
        let data = self.data_or_panic();
        match self.augment_shift {
            0 => data.batcher.host_batch(&data.train, indices),
            shift => data.batcher.host_batch_shifted(&data.train, indices, shift, key.seed()),
        }
    }

    fn train_step(
        &self,
        model: M,
        optimizers: &mut Self::Optimizers,
        host: HostImageBatch,
        _carry: &mut (),
        ctx: &mut StepContext<'_, B>,
    ) -> Result<M> {
        let batch = host.to_device::<B>(ctx.device);
        let n = batch.targets.dims()[0];
        // The loss belongs to the task and sees the step: L-Softmax's and SphereFace's λ anneal.
        let mut model = model;
        model.set_step(ctx.step);
        let logits = model.training_logits(batch.images, batch.targets.clone());
        let loss = loss::cross_entropy(&self.loss).init::<B>(ctx.device).forward(logits.clone(), batch.targets.clone());
        ctx.record("loss", loss.clone(), n);
        ctx.record("accuracy", correct_fraction(logits, batch.targets), n);
        let grads = ctx.grads(loss, &model)?;
        Ok(optimizers.step(ctx.lr, model, grads))
    }

    fn has_split(&self, split: Split) -> bool {
        match (split, &self.data) {
            (_, None) => false,
            (Split::Valid, Some(d)) => !d.valid_indices.is_empty(),
            (_, Some(_)) => true,
        }
    }

    fn evaluate(&self, model: &M, split: Split, ctx: &mut EvalContext<'_, B::InnerBackend>) -> Result<Figures> {
        let data = self.data_or_panic();
        let model = model.valid();
        match split {
            Split::Train => self.pass(&model, &data.train, &data.train_indices, Phase::Train, ctx),
            Split::Valid => self.pass(&model, &data.train, &data.valid_indices, Phase::Valid, ctx),
            Split::Test => {
                let all: Vec<usize> = (0..data.test.len()).collect();
                let mut figures = self.pass(&model, &data.test, &all, Phase::Test, ctx)?;
                for &size in &self.eval_sizes {
                    // The same test digits at another input size: SPP-net's one network, any size.
                    let resized = data.test.resized(size, size);
                    let at = self.pass(&model, &resized, &all, Phase::TestAtSize(size), ctx)?;
                    for name in ["loss", "accuracy"] {
                        figures.insert(format!("{name}@{size}"), at[name]);
                    }
                }
                Ok(figures)
            }
        }
    }

    fn model_facts(&self, model: &M) -> Figures {
        model.receptive_field().map(|pixels| ("receptive_field".to_string(), pixels as f64)).into_iter().collect()
    }

    fn save(&self, model: &M, optimizers: &Self::Optimizers, out: &mut CheckpointWriter) -> Result<()> {
        out.model_and_optimizer(model, optimizers)
    }

    fn load(
        &self,
        model: M,
        optimizers: Self::Optimizers,
        from: &CheckpointReader,
        device: &B::Device,
    ) -> Result<(M, Self::Optimizers)> {
        from.model_and_optimizer(model, optimizers, device)
    }

    fn synthetic_batch(&self, batch_size: usize, seed: u64) -> HostImageBatch {
        let mut rng = StdRng::seed_from_u64(seed);
        let [c, h, w] = self.input;
        // Standard normal pixels by Box–Muller: what normalised images look like.
        let pixels = (0..batch_size * c * h * w)
            .map(|_| {
                let (u, v): (f32, f32) = (rng.random_range(f32::EPSILON..1.0), rng.random_range(0.0..1.0));
                (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
            })
            .collect();
        let labels = (0..batch_size).map(|_| rng.random_range(0..self.classes as i64)).collect();
        HostImageBatch { pixels, labels, shape: [batch_size, c, h, w] }
    }
}

/// Puts a built classifier and the data into a [`ClassificationTask`] and hands both to `job`.
pub(crate) struct Assemble<'a, J> {
    pub cfg: &'a ExperimentConfig,
    pub data: ClassificationData,
    pub job: J,
}

impl<B: AutodiffBackend, J: super::TaskJob<B>> ClassifierJob<B> for Assemble<'_, J> {
    type Output = Result<J::Output>;
    fn run<M>(self, model: M) -> Self::Output
    where
        M: AutodiffModule<B> + ImageClassifier<B> + 'static,
        M::InnerModule: ImageClassifier<B::InnerBackend>,
    {
        let cfg = self.cfg;
        let input = self.data.input_shape();
        let eval_shapes = cfg.data.eval_sizes.iter().map(|&size| [input[0], size, size]);
        for shape in std::iter::once(input).chain(eval_shapes) {
            model
                .check_input(shape)
                .map_err(|e| KilnError::ModelParams { model: cfg.model.name.clone(), message: e.to_string() })?;
        }
        // Nothing here may touch a parameter: Burn initialises parameters lazily, in the order they
        // are first read, so reading one early would change the initial weights.
        self.job.run(ClassificationTask::<M>::new(cfg, self.data), model)
    }
}
