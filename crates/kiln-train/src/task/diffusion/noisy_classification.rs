//! Training the noise-aware classifier of classifier guidance (`[task] name =
//! "noisy_classification"`; Dhariwal & Nichol 2021, §4): digits noised under the `[loss]`
//! process, at levels drawn as a denoiser's training draws them, classified with their noise
//! level as input. A diffusion run names the trained run in `[sampling] classifier` and steers
//! its samples with `classifier_scale`.

use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use kiln_generative::guidance::{noisy_log_prob, noisy_logits};
use kiln_generative::network::NoisyClassifier;
use kiln_generative::objective::NoiseDraw;
use kiln_generative::NoiseLevel;

use super::data::ImageData;
use super::objective::Objective;
use super::{models, DIGIT_CLASSES};
use crate::checkpoint::{CheckpointReader, CheckpointWriter};
use crate::config::{ExperimentConfig, OptimSection, ParamProblem};
use crate::error::Result;
use crate::figures::Figures;
use crate::optimizer::AnyOptimizer;
use crate::task::{BatchKey, EvalContext, SectionProblem, Split, StepContext, Task, TaskEntry};

pub const ENTRY: TaskEntry = TaskEntry {
    name: "noisy_classification",
    summary: "the noise-aware classifier of classifier guidance: digits noised under a diffusion process, classified at their noise level",
    check,
};

/// Test digits scored per evaluation (each at a drawn level and nearly clean).
const SCORED: usize = 1000;

fn check(cfg: &ExperimentConfig) -> std::result::Result<(), SectionProblem> {
    let at = |section, key: &str, message: String| {
        SectionProblem::new(section, ParamProblem { key: Some(key.into()), message })
    };
    if cfg.data.dataset != "mnist" {
        return Err(at(
            "data",
            "dataset",
            format!("a noise-aware classifier reads digits: dataset = \"mnist\", not '{}'", cfg.data.dataset),
        ));
    }
    super::super::refuse_text_keys(cfg)?;
    if cfg.data.augment_shift != 0 || !cfg.data.eval_sizes.is_empty() {
        return Err(at(
            "data",
            "augment_shift",
            "augment_shift and eval_sizes are the classification task's; a noise-aware classifier takes neither".into(),
        ));
    }
    models::noisy_classifier_config(&cfg.model.name, &cfg.model.params, [1, 28, 28], DIGIT_CLASSES)
        .map_err(|p| SectionProblem::new("model", p))?;
    let objective = Objective::from_section(&cfg.loss).map_err(|p| SectionProblem::new("loss", p))?;
    if objective.cond_dropout > 0.0 || objective.reflow.is_some() {
        return Err(at(
            "loss",
            if objective.reflow.is_some() { "reflow" } else { "cond_dropout" },
            "[loss] names the noising process only; cond_dropout and reflow train denoisers".into(),
        ));
    }
    if !cfg.metrics.names.is_empty() {
        return Err(at("metrics", "names", "a noise-aware classifier reports loss, accuracy (at the drawn noise levels) and clean_accuracy; it takes no [metrics] names".into()));
    }
    if cfg.sampling.is_some() {
        return Err(at("sampling", "sampler", "[sampling] is a diffusion experiment's; this classifier draws no samples (a diffusion run names it in [sampling] classifier)".into()));
    }
    Ok(())
}

/// A host batch: clean digits in [−1, 1], and the levels, noise and classes to noise them with.
pub struct NoisyDigits {
    x0: Vec<f32>,
    rows: usize,
    draw: NoiseDraw,
}

pub struct NoisyClassification {
    pub(super) data: ImageData,
    pub(super) objective: Objective,
    pub(super) optim: OptimSection,
    pub(super) seed: u64,
}

impl NoisyClassification {
    fn shape(&self, n: usize) -> [usize; 4] {
        [n, 1, self.data.train.height, self.data.train.width]
    }

    fn batch(&self, dataset: &kiln_data::MnistDataset, indices: &[usize], seed: u64) -> NoisyDigits {
        let x0 = ImageData::pixels(dataset, indices);
        let labels: Vec<i64> = indices.iter().map(|&i| i64::from(dataset.labels[i])).collect();
        let pixels = self.data.train.height * self.data.train.width;
        let draw =
            NoiseDraw::new(&self.objective.process, indices.len(), pixels, Some((&labels, DIGIT_CLASSES, 0.0)), seed);
        NoisyDigits { x0, rows: indices.len(), draw }
    }

    fn split(&self, split: Split) -> Option<(&kiln_data::MnistDataset, Vec<usize>)> {
        self.data.split(split)
    }
}

/// The share of rows whose largest logit is their class.
fn accuracy<B: Backend>(logits: Tensor<B, 2>, classes: &[i64]) -> f64 {
    let predicted: Vec<i64> =
        logits.argmax(1).flatten::<1>(0, 1).into_data().convert::<i64>().to_vec().expect("classes");
    predicted.iter().zip(classes).filter(|(p, c)| p == c).count() as f64 / classes.len() as f64
}

impl<B: AutodiffBackend> Task<B> for NoisyClassification {
    type Model = NoisyClassifier<B>;
    type Optimizers = AnyOptimizer<NoisyClassifier<B>, B>;
    type Batch = NoisyDigits;
    type Carry = ();

    fn optimizers(&self) -> Self::Optimizers {
        AnyOptimizer::new(&self.optim)
    }

    fn train_examples(&self) -> Vec<usize> {
        self.data.train_indices.clone()
    }

    fn train_batch(&self, indices: &[usize], key: BatchKey) -> NoisyDigits {
        self.batch(&self.data.train, indices, key.seed())
    }

    fn train_step(
        &self,
        net: NoisyClassifier<B>,
        optimizers: &mut Self::Optimizers,
        batch: NoisyDigits,
        _carry: &mut (),
        ctx: &mut StepContext<'_, B>,
    ) -> Result<NoisyClassifier<B>> {
        let x0 = Tensor::<B, 4>::from_data(TensorData::new(batch.x0, self.shape(batch.rows)), ctx.device);
        let loss = noisy_log_prob(&net, &self.objective.preconditioning, x0, &batch.draw).mean().neg();
        ctx.record("loss", loss.clone().detach(), batch.rows);
        let grads = ctx.grads(loss, &net)?;
        Ok(optimizers.step(ctx.lr, net, grads))
    }

    fn has_split(&self, split: Split) -> bool {
        self.split(split).is_some()
    }

    fn evaluate(
        &self,
        model: &NoisyClassifier<B>,
        split: Split,
        ctx: &mut EvalContext<'_, B::InnerBackend>,
    ) -> Result<Figures> {
        let Some((dataset, indices)) = self.split(split) else { return Ok(Figures::new()) };
        let net = burn::module::AutodiffModule::valid(model);
        let scored = &indices[..indices.len().min(SCORED)];
        let preconditioning = &self.objective.preconditioning;
        let device = ctx.device;
        let mut pass = ctx.begin_steps(split.phase(), 2);
        // The same noise every evaluation, so epochs compare.
        let batch = self.batch(dataset, scored, self.seed ^ 0xC1A5);
        let classes = batch.draw.classes.clone().expect("labelled");
        let x0 = Tensor::<B::InnerBackend, 4>::from_data(TensorData::new(batch.x0, self.shape(batch.rows)), device);
        let mut figures = Figures::new();
        let logits = noisy_logits(&net, preconditioning, x0.clone(), &batch.draw);
        let labels =
            Tensor::<B::InnerBackend, 1, Int>::from_data(TensorData::new(classes.clone(), [classes.len()]), device);
        let log_p = burn::tensor::activation::log_softmax(logits.clone(), 1).gather(1, labels.unsqueeze_dim::<2>(1));
        figures.insert("loss".into(), -log_p.mean().into_scalar().elem::<f64>());
        figures.insert("accuracy".into(), accuracy(logits, &classes));
        pass.tick(batch.rows);
        // Nearly clean: the smallest noise the process trains on.
        let clean = NoiseLevel::exploding(self.objective.process.sigma_range().0);
        let draw = NoiseDraw { levels: vec![clean; batch.rows], ..batch.draw };
        figures.insert("clean_accuracy".into(), accuracy(noisy_logits(&net, preconditioning, x0, &draw), &classes));
        pass.tick(batch.rows);
        pass.end(figures)
    }

    fn save(&self, model: &Self::Model, optimizers: &Self::Optimizers, out: &mut CheckpointWriter) -> Result<()> {
        out.model_and_optimizer(model, optimizers)
    }

    fn load(
        &self,
        model: Self::Model,
        optimizers: Self::Optimizers,
        from: &CheckpointReader,
        device: &B::Device,
    ) -> Result<(Self::Model, Self::Optimizers)> {
        from.model_and_optimizer(model, optimizers, device)
    }

    fn synthetic_batch(&self, batch_size: usize, seed: u64) -> NoisyDigits {
        let train = &self.data.train_indices;
        let indices: Vec<usize> = (0..batch_size).map(|i| train[i % train.len()]).collect();
        self.batch(&self.data.train, &indices, seed)
    }
}
