//! Object detection: variable numbers of boxes per canvas, targets assigned inside the step by
//! the detector, and COCO evaluation (AP, AP50, AP75, APs, APm, APl, AR100, as pycocotools
//! computes them) of the detections left after the configured suppression.

pub mod augment;
pub mod data;
mod draw;
mod models;

use std::marker::PhantomData;
use std::path::Path;

use burn::module::{AutodiffModule, ModuleDisplay};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use kiln_data::segmentation::read_grey;
use kiln_data::{CocoDetectionDataset, CocoResult};
use kiln_metrics::{CocoEvaluator, CocoSummary, Detection, GroundTruth};
use kiln_vision::detection::{LabelledBox, ObjectDetector, OnDetector, ScoredBox, Suppression, SUPPRESSIONS};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

pub use data::DetectionData;
pub use models::{check_model, classes};

use super::{BatchKey, EvalContext, SectionProblem, Split, StepContext, Task, TaskEntry};
use crate::checkpoint::{CheckpointReader, CheckpointWriter};
use crate::config::{
    closest, DetectionSection, ExperimentConfig, LossSection, MetricsSection, OptimSection, ParamProblem,
};
use crate::error::{KilnError, Result};
use crate::figures::Figures;
use crate::optimizer::AnyOptimizer;
use crate::progress::Phase;

pub const ENTRY: TaskEntry = TaskEntry {
    name: "detection",
    summary:
        "object detection: CenterNet, FCOS, VarifocalNet; COCO AP/AP50/AP75/APs/APm/APl/AR100, suppression by name",
    check,
};

/// The figures `[metrics] names` can ask for; all of them when it names none.
pub const DETECTION_METRICS: [&str; 7] = ["ap", "ap50", "ap75", "aps", "apm", "apl", "ar100"];

fn check(cfg: &ExperimentConfig) -> std::result::Result<(), SectionProblem> {
    super::refuse_text_keys(cfg)?;
    let at = |section, key: &str, message: String| {
        SectionProblem::new(section, ParamProblem { key: Some(key.into()), message })
    };
    if !data::DATASETS.contains(&cfg.data.dataset.as_str()) {
        let hint =
            closest(&cfg.data.dataset, data::DATASETS).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
        let message = format!(
            "unknown dataset '{}' in [data] for detection (known: {}: train/, test/ and annotations/instances_{{train,test}}.json in COCO format){hint}",
            cfg.data.dataset,
            data::DATASETS.join(", ")
        );
        return Err(at("data", "dataset", message));
    }
    if cfg.data.augment_shift != 0 {
        return Err(at(
            "data",
            "augment_shift",
            "detection augments with [detection] flip and scale_jitter, which move the boxes too".into(),
        ));
    }
    if !cfg.data.eval_sizes.is_empty() {
        return Err(at("data", "eval_sizes", "eval_sizes is a classification setting".into()));
    }
    models::check_model(&cfg.model.name, &cfg.model.params).map_err(|p| SectionProblem::new("model", p))?;
    if cfg.loss != LossSection::default() {
        return Err(at(
            "loss",
            "name",
            "a detector's losses are set in [model], as in an mmdetection head (CenterNet: size_weight, offset_weight, focal_alpha, focal_beta; FCOS and VarifocalNet: box_loss, box_weight, focal_alpha, varifocal_alpha, …); leave [loss] out".into(),
        ));
    }
    check_metrics(&cfg.metrics).map_err(|message| at("metrics", "names", message))?;
    if let Some(section) = &cfg.detection {
        DetectionSettings::from_section(section).map_err(|p| SectionProblem::new("detection", p))?;
    }
    Ok(())
}

fn check_metrics(section: &MetricsSection) -> std::result::Result<(), String> {
    for name in &section.names {
        if !DETECTION_METRICS.contains(&name.as_str()) {
            let hint = closest(name, DETECTION_METRICS).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
            return Err(format!(
                "metric '{name}' is not one the detection task computes ({}){hint}",
                DETECTION_METRICS.join(", ")
            ));
        }
    }
    Ok(())
}

/// `[detection]` read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionSettings {
    pub suppression: Suppression,
    pub compare: Vec<Suppression>,
    pub max_detections: usize,
    pub candidates: usize,
    pub flip: bool,
    pub scale_jitter: Option<[f32; 2]>,
}

impl DetectionSettings {
    pub fn from_section(section: &DetectionSection) -> std::result::Result<Self, ParamProblem> {
        let problem = |key: &str, message: String| ParamProblem { key: Some(key.into()), message };
        let by_name = |key: &str, name: &str| {
            Suppression::from_name(name).map_err(|e| {
                let hint = closest(name, SUPPRESSIONS).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
                problem(key, format!("{e} in [detection] {key}{hint}"))
            })
        };
        let suppression = by_name("suppression", &section.suppression)?;
        let compare =
            section.compare.iter().map(|n| by_name("compare", n)).collect::<std::result::Result<Vec<_>, _>>()?;
        if section.max_detections == 0 {
            return Err(problem("max_detections", "max_detections must be at least 1".into()));
        }
        if section.candidates < section.max_detections {
            return Err(problem(
                "candidates",
                format!(
                    "candidates ({}) must be at least max_detections ({}): suppression keeps some of the candidates",
                    section.candidates, section.max_detections
                ),
            ));
        }
        let scale_jitter = match section.scale_jitter {
            None => None,
            Some([low, high]) if low > 0.0 && low <= high && high.is_finite() => Some([low as f32, high as f32]),
            Some(range) => {
                return Err(problem(
                    "scale_jitter",
                    format!("scale_jitter is [low, high] with 0 < low ≤ high, got {range:?}"),
                ))
            }
        };
        Ok(Self {
            suppression,
            compare,
            max_detections: section.max_detections,
            candidates: section.candidates,
            flip: section.flip,
            scale_jitter,
        })
    }
}

/// Canvases in host memory, standardised, with their objects.
pub struct HostDetectionBatch {
    pub pixels: Vec<f32>,
    /// `[N, 1, H, W]`.
    pub shape: [usize; 4],
    pub objects: Vec<Vec<LabelledBox>>,
    /// The canvases' positions in their split.
    pub indices: Vec<usize>,
}

impl HostDetectionBatch {
    pub fn to_device<B: Backend>(&self, device: &B::Device) -> Tensor<B, 4> {
        Tensor::from_data(TensorData::new(self.pixels.clone(), self.shape), device)
    }
}

/// The detection task of one experiment, for detectors of type `M`.
pub struct DetectionTask<M> {
    data: DetectionData,
    settings: DetectionSettings,
    metrics: Vec<String>,
    optim: OptimSection,
    _model: PhantomData<fn() -> M>,
}

impl<M> DetectionTask<M> {
    pub fn new(cfg: &ExperimentConfig, data: DetectionData) -> Result<Self> {
        let section = cfg.detection.clone().unwrap_or_default();
        let settings = DetectionSettings::from_section(&section)
            .map_err(|p| KilnError::Unsupported(format!("[detection]: {}", p.message)))?;
        let metrics = if cfg.metrics.names.is_empty() {
            DETECTION_METRICS.map(String::from).to_vec()
        } else {
            cfg.metrics.names.clone()
        };
        Ok(Self { data, settings, metrics, optim: cfg.optim.clone(), _model: PhantomData })
    }

    pub fn data(&self) -> &DetectionData {
        &self.data
    }

    fn standardise(&self, grey: &[u8]) -> Vec<f32> {
        let (mean, std) = (self.data.mean, self.data.std);
        grey.iter().map(|&p| (f32::from(p) / 255.0 - mean) / std).collect()
    }

    /// The canvases `indices` of `set`, augmented when `augment` holds a batch's random stream.
    fn host_batch(
        &self,
        set: &CocoDetectionDataset,
        indices: &[usize],
        augment: Option<&mut StdRng>,
    ) -> HostDetectionBatch {
        let (h, w) = (set.height, set.width);
        let mut pixels = Vec::with_capacity(indices.len() * h * w);
        let mut objects = Vec::with_capacity(indices.len());
        let mut rng = augment;
        // Black canvas background, standardised: what padding shows after shrinking.
        let fill = -self.data.mean / self.data.std;
        for &i in indices {
            let mut image = self.standardise(set.image(i));
            let mut boxes = data::labelled_boxes(set, i);
            if let Some(rng) = rng.as_deref_mut() {
                if self.settings.flip && rng.random_bool(0.5) {
                    augment::flip(&mut image, &mut boxes, (h, w));
                }
                if let Some([low, high]) = self.settings.scale_jitter {
                    let factor = if high > low { rng.random_range(low..=high) } else { low };
                    (image, boxes) = augment::rescale(&image, &boxes, (h, w), factor, fill);
                }
            }
            pixels.extend(image);
            objects.push(boxes);
        }
        HostDetectionBatch { pixels, shape: [indices.len(), 1, h, w], objects, indices: indices.to_vec() }
    }

    /// The COCO ground truths of canvas `i` (category ids, `[x, y, w, h]`).
    fn ground_truths(set: &CocoDetectionDataset, i: usize) -> Vec<GroundTruth> {
        set.objects[i]
            .iter()
            .map(|o| {
                let (category, bbox) = (set.categories[o.class].0, o.bbox.map(f64::from));
                if o.iscrowd {
                    GroundTruth::crowd(category, bbox)
                } else {
                    GroundTruth::new(category, bbox)
                }
            })
            .collect()
    }

    fn coco_detections(set: &CocoDetectionDataset, found: &[ScoredBox]) -> Vec<Detection> {
        found
            .iter()
            .map(|d| {
                let [x1, y1, x2, y2] = d.bbox.map(f64::from);
                Detection::new(set.categories[d.class].0, [x1, y1, x2 - x1, y2 - y1], f64::from(d.score))
            })
            .collect()
    }

    /// The named figures of a COCO summary, `prefix` before each (`nms_` for a compared suppression).
    fn coco_figures(&self, summary: &CocoSummary, prefix: &str) -> Figures {
        let value = |name: &str| match name {
            "ap" => summary.ap,
            "ap50" => summary.ap50,
            "ap75" => summary.ap75,
            "aps" => summary.ap_small,
            "apm" => summary.ap_medium,
            "apl" => summary.ap_large,
            "ar100" => summary.ar100,
            _ => None,
        };
        self.metrics.iter().filter_map(|name| value(name).map(|v| (format!("{prefix}{name}"), v))).collect()
    }

    /// Losses and COCO figures of `model` on `indices` of `set`; `compare` also scores the other
    /// suppressions on the same detections.
    fn pass<B: Backend, D: ObjectDetector<B>>(
        &self,
        model: &D,
        set: &CocoDetectionDataset,
        indices: &[usize],
        phase: Phase,
        compare: bool,
        ctx: &mut EvalContext<'_, B>,
    ) -> Result<Figures> {
        let device = ctx.device;
        let mut suppressions = vec![self.settings.suppression];
        if compare {
            suppressions.extend(self.settings.compare.iter().copied());
        }
        let mut evaluators = vec![CocoEvaluator::new(); suppressions.len()];
        let keep = self.settings.max_detections;
        let mut pass = ctx.begin(phase, indices.len());
        pass.run(
            indices,
            |chunk| self.host_batch(set, chunk, None),
            |host, meter| {
                let n = host.indices.len();
                let images = host.to_device::<B>(device);
                for (name, value) in model.losses(images.clone(), &host.objects) {
                    meter.add(name, value, n);
                }
                let raw = model.detect(images, self.settings.candidates);
                for (&i, found) in host.indices.iter().zip(&raw) {
                    let truths = Self::ground_truths(set, i);
                    for (suppression, coco) in suppressions.iter().zip(&mut evaluators) {
                        let kept = suppression.apply(found, keep);
                        coco.add_image(set.image_ids[i], &truths, &Self::coco_detections(set, &kept));
                    }
                }
                Ok(())
            },
        )?;
        let mut figures = self.coco_figures(&evaluators[0].summarize(), "");
        for (suppression, coco) in suppressions.iter().zip(&evaluators).skip(1) {
            figures.extend(self.coco_figures(&coco.summarize(), &format!("{}_", suppression.name())));
        }
        pass.end(figures)
    }

    fn category_names(&self) -> Vec<String> {
        self.data.train.categories.iter().map(|c| c.1.clone()).collect()
    }
}

impl<B, M> Task<B> for DetectionTask<M>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + ObjectDetector<B> + 'static,
    M::InnerModule: ObjectDetector<B::InnerBackend>,
{
    type Model = M;
    type Optimizers = AnyOptimizer<M, B>;
    type Batch = HostDetectionBatch;
    type Carry = ();

    fn optimizers(&self) -> Self::Optimizers {
        AnyOptimizer::new(&self.optim)
    }

    fn train_examples(&self) -> Vec<usize> {
        self.data.train_indices.clone()
    }

    fn train_batch(&self, indices: &[usize], key: BatchKey) -> HostDetectionBatch {
        let mut rng = StdRng::seed_from_u64(key.seed());
        self.host_batch(&self.data.train, indices, Some(&mut rng))
    }

    fn train_step(
        &self,
        model: M,
        optimizers: &mut Self::Optimizers,
        host: HostDetectionBatch,
        _carry: &mut (),
        ctx: &mut StepContext<'_, B>,
    ) -> Result<M> {
        let n = host.indices.len();
        let images = host.to_device::<B>(ctx.device);
        let mut losses = model.losses(images, &host.objects).into_iter();
        let (_, total) = losses.next().expect("a detector's first loss is its total");
        ctx.record("loss", total.clone(), n);
        for (name, value) in losses {
            ctx.record(name, value, n);
        }
        let grads = ctx.grads(total, &model)?;
        Ok(optimizers.step(ctx.lr, model, grads))
    }

    fn has_split(&self, split: Split) -> bool {
        split != Split::Valid || !self.data.valid_indices.is_empty()
    }

    fn evaluate(&self, model: &M, split: Split, ctx: &mut EvalContext<'_, B::InnerBackend>) -> Result<Figures> {
        let model = model.valid();
        let data = &self.data;
        match split {
            Split::Train => self.pass(&model, &data.train, &data.train_indices, Phase::Train, false, ctx),
            Split::Valid => self.pass(&model, &data.train, &data.valid_indices, Phase::Valid, false, ctx),
            Split::Test => {
                let all: Vec<usize> = (0..data.test.len()).collect();
                self.pass(&model, &data.test, &all, Phase::Test, true, ctx)
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

    fn synthetic_batch(&self, batch_size: usize, seed: u64) -> HostDetectionBatch {
        let mut rng = StdRng::seed_from_u64(seed);
        let [_, h, w] = self.data.input_shape();
        let classes = self.data.train.classes();
        let pixels = (0..batch_size * h * w).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let objects = (0..batch_size)
            .map(|_| {
                (0..4)
                    .map(|_| {
                        let side = rng.random_range(12.0..(h.min(w) as f32 / 2.0).max(13.0));
                        let (x, y) = (rng.random_range(0.0..w as f32 - side), rng.random_range(0.0..h as f32 - side));
                        LabelledBox { bbox: [x, y, x + side, y + side], class: rng.random_range(0..classes) }
                    })
                    .collect()
            })
            .collect();
        HostDetectionBatch { pixels, shape: [batch_size, 1, h, w], objects, indices: (0..batch_size).collect() }
    }

    /// Detects the objects of one grey canvas, applies `[detection] suppression`, and writes a
    /// picture of the boxes (`.png`) or the detections in COCO results format (`.json`, with the
    /// image id of the test canvas of that file name, else 0).
    fn predict(&self, model: &M, input: &Path, output: &Path, device: &B::Device) -> Result<String> {
        let (grey, (h, w)) = read_grey(input)?;
        model.check_input([1, h, w]).map_err(|e| KilnError::Unsupported(format!("'{}': {e}", input.display())))?;
        let pixels = self.standardise(&grey);
        let images = Tensor::<B::InnerBackend, 4>::from_data(TensorData::new(pixels, [1, 1, h, w]), device);
        let raw = model.valid().detect(images, self.settings.candidates).remove(0);
        let kept = self.settings.suppression.apply(&raw, self.settings.max_detections);
        let names = self.category_names();
        let is_json = output.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if is_json {
            let file_name = input.file_name().map(|f| f.to_string_lossy().into_owned());
            let test = &self.data.test;
            let image_id =
                test.file_names.iter().position(|f| Some(f) == file_name.as_ref()).map_or(0, |i| test.image_ids[i]);
            let results: Vec<CocoResult> = kept
                .iter()
                .map(|d| {
                    let [x1, y1, x2, y2] = d.bbox.map(f64::from);
                    CocoResult {
                        image_id,
                        category_id: test.categories[d.class].0,
                        bbox: [x1, y1, x2 - x1, y2 - y1],
                        score: f64::from(d.score),
                    }
                })
                .collect();
            kiln_data::write_results(output, &results)?;
        } else {
            // The picture shows what a reader would call found: scores of at least 0.3.
            let shown: Vec<ScoredBox> = kept.iter().copied().filter(|d| d.score >= PICTURE_MIN_SCORE).collect();
            draw::write_boxes(output, &grey, (h, w), &shown, &names)?;
        }
        let confident: Vec<String> =
            kept.iter().filter(|d| d.score >= PICTURE_MIN_SCORE).map(|d| draw::label_text(d, &names)).collect();
        Ok(format!(
            "{} detections after {} ({} with score ≥ {PICTURE_MIN_SCORE}: {})",
            kept.len(),
            self.settings.suppression.name(),
            confident.len(),
            if confident.is_empty() { "none".into() } else { confident.join(", ") }
        ))
    }
}

/// Detections drawn by `kiln predict` (the JSON keeps all of them, as COCO scoring wants).
const PICTURE_MIN_SCORE: f32 = 0.3;

/// Puts a built detector and the data into a [`DetectionTask`] and hands both to `job`.
pub(crate) struct Assemble<'a, J> {
    pub cfg: &'a ExperimentConfig,
    pub data: DetectionData,
    pub job: J,
}

impl<B: AutodiffBackend, J: super::TaskJob<B>> OnDetector<B> for Assemble<'_, J> {
    type Output = Result<J::Output>;
    fn run<M>(self, model: M) -> Self::Output
    where
        M: AutodiffModule<B> + ObjectDetector<B> + ModuleDisplay + 'static,
        M::InnerModule: ObjectDetector<B::InnerBackend> + ModuleDisplay,
    {
        model
            .check_input(self.data.input_shape())
            .map_err(|e| KilnError::ModelParams { model: self.cfg.model.name.clone(), message: e.to_string() })?;
        let task = DetectionTask::<M>::new(self.cfg, self.data)?;
        self.job.run(task, model)
    }
}
