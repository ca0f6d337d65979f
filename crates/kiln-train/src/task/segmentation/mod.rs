//! Semantic segmentation: a class for every pixel. Per-pixel cross-entropy with an ignore index
//! (and soft Dice, alone or added), scored by pixel accuracy, mean pixel accuracy, mean IoU and
//! frequency-weighted IoU from a confusion matrix (Long et al. 2015, Sec. 5).

pub mod data;
mod loss;
pub(crate) mod models;
pub(crate) mod overlay;

use std::marker::PhantomData;
use std::path::Path;

use burn::module::{AutodiffModule, ModuleDisplay};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use kiln_data::segmentation::read_grey;
use kiln_data::{HostSegmentationBatch, SegmentationDataset};
use kiln_metrics::ConfusionMatrix;
use kiln_vision::segmentation::{OnSegmenter, SemanticSegmenter};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

pub use data::SegmentationData;
pub use loss::SegmentationLoss;

use super::{BatchKey, EvalContext, SectionProblem, Split, StepContext, Task, TaskEntry};
use crate::checkpoint::{CheckpointReader, CheckpointWriter};
use crate::config::ParamProblem;
use crate::config::{closest, ExperimentConfig, MetricsSection, OptimSection};
use crate::error::{KilnError, Result};
use crate::figures::Figures;
use crate::optimizer::AnyOptimizer;
use crate::progress::Phase;

pub const ENTRY: TaskEntry = TaskEntry {
    name: "segmentation",
    summary: "semantic segmentation: per-pixel cross-entropy or soft Dice, PA/MPA/MIoU/FWIoU",
    check,
};

/// The figures `[metrics] names` can ask for; all four when it names none.
pub const SEGMENTATION_METRICS: [&str; 4] =
    ["pixel_accuracy", "mean_pixel_accuracy", "mean_iou", "frequency_weighted_iou"];

fn check(cfg: &ExperimentConfig) -> std::result::Result<(), SectionProblem> {
    super::refuse_text_keys(cfg)?;
    let at = |section, key: &str, message: String| {
        SectionProblem::new(section, ParamProblem { key: Some(key.into()), message })
    };
    if !data::DATASETS.contains(&cfg.data.dataset.as_str()) {
        let hint =
            closest(&cfg.data.dataset, data::DATASETS).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
        let message = format!(
            "unknown dataset '{}' in [data] for segmentation (known: {}: folders train/ and test/ of images/ and labels/ PNGs){hint}",
            cfg.data.dataset,
            data::DATASETS.join(", ")
        );
        return Err(at("data", "dataset", message));
    }
    models::check_model(&cfg.model.name, &cfg.model.params).map_err(|p| SectionProblem::new("model", p))?;
    SegmentationLoss::from_section(&cfg.loss).map_err(|p| SectionProblem::new("loss", p))?;
    check_metrics(&cfg.metrics).map_err(|message| at("metrics", "names", message))
}

fn check_metrics(section: &MetricsSection) -> std::result::Result<(), String> {
    for name in &section.names {
        if !SEGMENTATION_METRICS.contains(&name.as_str()) {
            let hint =
                closest(name, SEGMENTATION_METRICS).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
            return Err(format!(
                "metric '{name}' is not one the segmentation task computes ({}){hint}",
                SEGMENTATION_METRICS.join(", ")
            ));
        }
    }
    Ok(())
}

/// The segmentation task of one experiment, for networks of type `M`.
pub struct SegmentationTask<M> {
    data: SegmentationData,
    classes: usize,
    loss: SegmentationLoss,
    metrics: Vec<String>,
    optim: OptimSection,
    _model: PhantomData<fn() -> M>,
}

impl<M> SegmentationTask<M> {
    /// `classes` is the network's (background included).
    pub fn new(cfg: &ExperimentConfig, data: SegmentationData, classes: usize) -> Result<Self> {
        let loss = SegmentationLoss::from_section(&cfg.loss)
            .map_err(|p| KilnError::Unsupported(format!("[loss]: {}", p.message)))?;
        let metrics = if cfg.metrics.names.is_empty() {
            SEGMENTATION_METRICS.map(String::from).to_vec()
        } else {
            cfg.metrics.names.clone()
        };
        Ok(Self { data, classes, loss, metrics, optim: cfg.optim.clone(), _model: PhantomData })
    }

    pub fn data(&self) -> &SegmentationData {
        &self.data
    }

    fn host_batch(&self, set: &SegmentationDataset, indices: &[usize]) -> HostSegmentationBatch {
        HostSegmentationBatch::new(set, indices, self.data.mean, self.data.std)
    }

    /// Loss and the confusion-matrix metrics of `model` on `indices` of `set`.
    fn pass<B: Backend, S: SemanticSegmenter<B>>(
        &self,
        model: &S,
        set: &SegmentationDataset,
        indices: &[usize],
        phase: Phase,
        ctx: &mut EvalContext<'_, B>,
    ) -> Result<Figures> {
        let device = ctx.device;
        let mut confusion = ConfusionMatrix::new(self.classes, self.loss.ignore_index);
        let mut pass = ctx.begin(phase, indices.len());
        pass.run(
            indices,
            |chunk| self.host_batch(set, chunk),
            |host, meter| {
                let n = host.len();
                let (images, targets) = host.to_device::<B>(device);
                let logits = model.pixel_logits(images);
                meter.add("loss", self.loss.forward(logits.clone(), targets.clone()), n);
                confusion.update(logits, targets);
                Ok(())
            },
        )?;
        let value = |name: &str| match name {
            "pixel_accuracy" => confusion.pixel_accuracy(),
            "mean_pixel_accuracy" => confusion.mean_pixel_accuracy(),
            "mean_iou" => confusion.mean_iou(),
            "frequency_weighted_iou" => confusion.frequency_weighted_iou(),
            _ => None,
        };
        pass.end(self.metrics.iter().filter_map(|name| value(name).map(|v| (name.clone(), v))).collect())
    }
}

impl<B, M> Task<B> for SegmentationTask<M>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + SemanticSegmenter<B> + 'static,
    M::InnerModule: SemanticSegmenter<B::InnerBackend>,
{
    type Model = M;
    type Optimizers = AnyOptimizer<M, B>;
    type Batch = HostSegmentationBatch;
    type Carry = ();

    fn optimizers(&self) -> Self::Optimizers {
        AnyOptimizer::new(&self.optim)
    }

    fn train_examples(&self) -> Vec<usize> {
        self.data.train_indices.clone()
    }

    fn train_batch(&self, indices: &[usize], _key: BatchKey) -> HostSegmentationBatch {
        self.host_batch(&self.data.train, indices)
    }

    fn train_step(
        &self,
        model: M,
        optimizers: &mut Self::Optimizers,
        host: HostSegmentationBatch,
        _carry: &mut (),
        ctx: &mut StepContext<'_, B>,
    ) -> Result<M> {
        let n = host.len();
        let (images, targets) = host.to_device::<B>(ctx.device);
        let logits = model.pixel_logits(images);
        let loss = self.loss.forward(logits.clone(), targets.clone());
        ctx.record("loss", loss.clone(), n);
        ctx.record("pixel_accuracy", self.loss.pixel_accuracy(logits, targets), n);
        let grads = ctx.grads(loss, &model)?;
        Ok(optimizers.step(ctx.lr, model, grads))
    }

    fn has_split(&self, split: Split) -> bool {
        split != Split::Valid || !self.data.valid_indices.is_empty()
    }

    fn evaluate(&self, model: &M, split: Split, ctx: &mut EvalContext<'_, B::InnerBackend>) -> Result<Figures> {
        let model = model.valid();
        let data = &self.data;
        match split {
            Split::Train => self.pass(&model, &data.train, &data.train_indices, Phase::Train, ctx),
            Split::Valid => self.pass(&model, &data.train, &data.valid_indices, Phase::Valid, ctx),
            Split::Test => {
                let all: Vec<usize> = (0..data.test.len()).collect();
                self.pass(&model, &data.test, &all, Phase::Test, ctx)
            }
        }
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

    fn synthetic_batch(&self, batch_size: usize, seed: u64) -> HostSegmentationBatch {
        let mut rng = StdRng::seed_from_u64(seed);
        let [_, h, w] = self.data.input_shape();
        let pixels = (0..batch_size * h * w).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let labels = (0..batch_size * h * w).map(|_| rng.random_range(0..self.classes as i64)).collect();
        HostSegmentationBatch { pixels, labels, shape: [batch_size, 1, h, w] }
    }

    fn predict(&self, model: &M, input: &Path, output: &Path, device: &B::Device) -> Result<String> {
        if output.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            return Err(KilnError::Unsupported(
                "a segmentation run predicts a PNG overlay (--out); --json is for detection runs".into(),
            ));
        }
        let (grey, (h, w)) = read_grey(input)?;
        model.check_input([1, h, w]).map_err(|e| KilnError::Unsupported(format!("'{}': {e}", input.display())))?;
        let pixels: Vec<f32> = grey.iter().map(|&p| (p as f32 / 255.0 - self.data.mean) / self.data.std).collect();
        let images = Tensor::<B::InnerBackend, 4>::from_data(TensorData::new(pixels, [1, 1, h, w]), device);
        let predicted = model.valid().pixel_logits(images).argmax(1).reshape([h * w]);
        let classes: Vec<i64> = predicted.into_data().convert::<i64>().to_vec().expect("integer classes");
        let classes: Vec<u8> = classes.iter().map(|&c| c as u8).collect();
        overlay::write_overlay(output, &grey, &classes, (h, w))?;
        Ok(overlay::describe(&classes))
    }
}

/// Puts a built network and the data into a [`SegmentationTask`] and hands both to `job`.
pub(crate) struct Assemble<'a, J> {
    pub cfg: &'a ExperimentConfig,
    pub data: SegmentationData,
    pub job: J,
}

impl<B: AutodiffBackend, J: super::TaskJob<B>> OnSegmenter<B> for Assemble<'_, J> {
    type Output = Result<J::Output>;
    fn run<M>(self, model: M) -> Self::Output
    where
        M: AutodiffModule<B> + SemanticSegmenter<B> + ModuleDisplay + 'static,
        M::InnerModule: SemanticSegmenter<B::InnerBackend> + ModuleDisplay,
    {
        let model_name = self.cfg.model.name.clone();
        model
            .check_input(self.data.input_shape())
            .map_err(|e| KilnError::ModelParams { model: model_name, message: e.to_string() })?;
        // From the config, not `model.classes()`: reading a parameter first would change the order in
        // which Burn lazily initialises them, and so the initial weights.
        let classes = models::classes(&self.cfg.model.name, &self.cfg.model.params)?;
        let task = SegmentationTask::<M>::new(self.cfg, self.data, classes)?;
        self.job.run(task, model)
    }
}
