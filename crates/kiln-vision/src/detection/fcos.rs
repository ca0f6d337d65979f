//! FCOS (Tian, Shen, Chen, He 2019, "FCOS: Fully Convolutional One-Stage Object Detection") and
//! VarifocalNet (Zhang, Wang, Dayoub, Sünderhauf 2021, "VarifocalNet: An IoU-aware Dense Object
//! Detector") on one FPN: VarifocalNet is FCOS with three parts switched on, so that each part's
//! ablation row is one key (`varifocal`, `star`, `refine`) of the same network.
//!
//! Backbone: a stride-2 conv-BN-ReLU stem and up to four ResNet basic-block stages (strides 4
//! to 32); an FPN over the stages `strides` names gives the pyramid (P2–P4 by default: COCO's
//! P3–P7 serve objects of 32–800 px, MNIST-det's digits are 12–64 px, and at stride 8 a 12-px
//! digit spans one or two locations). Every location of every level is a sample ([`FcosTargets`]).
//!
//! Training, FCOS: sigmoid focal loss on the classes (α 0.25, γ 2) over all locations, divided
//! by the positives; the IoU-family loss `box_loss` (GIoU in FCOS-imprv; `iou`, `giou`, `diou`,
//! `ciou` by name) on the positives' boxes; BCE on centre-ness. The box losses are weighted by
//! the centre-ness targets (FCOS-imprv), for both detectors alike. Score at test: √(class ·
//! centre-ness). VarifocalNet: `varifocal` makes the class target the IoU-aware classification
//! score (IACS: the IoU of the predicted — refined, when refining — box with its object at the
//! object's class, 0 elsewhere) under the varifocal loss (α 0.75, γ 2) and drops centre-ness,
//! scoring by the IACS alone; `star` samples the last class conv and the refinement conv at the
//! initial box's nine points; `refine` adds the refined box and its own loss. The reference
//! VarifocalNet assigns by ATSS; kiln keeps FCOS's assignment for both, so the rows differ in
//! the three parts only.

use burn::prelude::*;
use burn::tensor::activation::{log_sigmoid, sigmoid};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Int;
use kiln_losses::{Reduction, SigmoidFocalLossConfig, VarifocalLossConfig};

use super::basic_block_stages;
use super::family::{DetectorFamily, OnDetector};
use super::fcos_head::{FcosHead, FcosHeadShape, LevelOutput};
use super::{dense_candidates, fcos_locations, FcosLevel, FcosTargets, LabelledBox, ObjectDetector, ScoredBox};
use crate::blocks::{BasicBlock, ConvNormAct, ConvNormActConfig, Fpn, FpnConfig};
use crate::boxes::{paired_overlap, IouLossConfig, Overlap};
use crate::family::{ModelFamily, Variant};
use crate::VisionError;

/// Strides of the backbone's four stages, C2 to C5: the pyramid levels to choose from.
pub const STAGE_STRIDES: [usize; 4] = [4, 8, 16, 32];

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::detection::{FcosConfig, LabelledBox, ObjectDetector};
/// let device = Default::default();
/// let net = FcosConfig::new().with_width(4).with_fpn_width(8).with_groups(2).init::<NdArray>(&device);
/// let objects = vec![vec![LabelledBox { bbox: [4.0, 4.0, 20.0, 28.0], class: 3 }]];
/// let losses = net.losses(Tensor::zeros([1, 1, 64, 64], &device), &objects);
/// assert_eq!(losses.iter().map(|l| l.0).collect::<Vec<_>>(), ["loss", "class_loss", "box_loss", "centreness_loss"]);
/// ```
#[derive(Config, Debug)]
pub struct FcosConfig {
    #[config(default = 1)]
    pub in_channels: usize,
    #[config(default = 10)]
    pub num_classes: usize,
    /// Channels of the stem; the stages have 2, 4, 8 and 8 times as many.
    #[config(default = 16)]
    pub width: usize,
    /// Basic blocks per stage.
    #[config(default = 1)]
    pub blocks: usize,
    /// Channels of the FPN and the head (the paper's 256 on COCO).
    #[config(default = 64)]
    pub fpn_width: usize,
    /// 3×3 conv + GroupNorm + ReLU layers per tower (the paper's 4).
    #[config(default = 2)]
    pub tower_convs: usize,
    /// GroupNorm groups in the towers (the paper's 32 on 256 channels: 8 channels a group).
    #[config(default = 8)]
    pub groups: usize,
    /// The IoU-family box loss: "iou", "giou", "diou" or "ciou".
    #[config(default = "Overlap::Giou")]
    pub box_loss: Overlap,
    /// Strides of the pyramid levels, consecutive stages of 4, 8, 16, 32 (the paper's P3–P7
    /// are 8 to 128 on COCO; MNIST-det's digits of 12–64 px are served by P2–P4).
    #[config(default = "vec![4, 8, 16]")]
    pub strides: Vec<usize>,
    /// Boundaries of max(l, t, r, b) between consecutive levels, in input pixels, one fewer
    /// than `strides` (the paper's 64, 128, 256, 512: 8 strides of each level; here 3).
    #[config(default = "vec![12.0, 24.0]")]
    pub level_limits: Vec<f64>,
    /// Centre sampling radius in strides (FCOS-imprv's 1.5); 0 for the paper's inside-the-box.
    #[config(default = 1.5)]
    pub centre_radius: f64,
    /// VarifocalNet's IACS target under the varifocal loss, in place of focal loss + centre-ness.
    #[config(default = false)]
    pub varifocal: bool,
    /// VarifocalNet's star-shaped (deformable) box feature representation.
    #[config(default = false)]
    pub star: bool,
    /// VarifocalNet's box refinement.
    #[config(default = false)]
    pub refine: bool,
    #[config(default = 0.25)]
    pub focal_alpha: f64,
    #[config(default = 2.0)]
    pub focal_gamma: f64,
    #[config(default = 0.75)]
    pub varifocal_alpha: f64,
    #[config(default = 2.0)]
    pub varifocal_gamma: f64,
    /// Weight of the initial box's loss (mmdetection: FCOS 1.0, VarifocalNet 1.5).
    #[config(default = 1.0)]
    pub box_weight: f64,
    /// Weight of the refined box's loss (mmdetection's VarifocalNet: 2.0).
    #[config(default = 2.0)]
    pub refine_weight: f64,
    /// Class scores not above it are no candidates (mmdetection's `score_thr`).
    #[config(default = 0.05)]
    pub score_threshold: f64,
}

/// VarifocalNet: FCOS with the IACS target and varifocal loss, the star-shaped representation
/// and refinement, mmdetection's loss weights.
fn vfnet() -> FcosConfig {
    FcosConfig::new().with_varifocal(true).with_star(true).with_refine(true).with_box_weight(1.5)
}

/// What the loss, the decoding and the checks need of the config.
#[derive(Debug, Clone)]
pub struct FcosSettings {
    pub in_channels: usize,
    pub classes: usize,
    pub levels: Vec<FcosLevel>,
    /// Index of the first stage whose output feeds the pyramid.
    pub first_level: usize,
    pub box_loss: Overlap,
    pub centre_radius: f32,
    pub varifocal: bool,
    pub refine: bool,
    pub focal: [f64; 2],
    pub varifocal_loss: [f64; 2],
    pub box_weight: f64,
    pub refine_weight: f64,
    pub score_threshold: f32,
}

#[derive(Module, Debug)]
pub struct Fcos<B: Backend> {
    pub stem: ConvNormAct<B>,
    /// Strides 4, 8, 16, 32.
    pub stages: Vec<Vec<BasicBlock<B>>>,
    pub fpn: Fpn<B>,
    pub head: FcosHead<B>,
    #[module(skip)]
    pub settings: FcosSettings,
}

impl FcosConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> Fcos<B> {
        let w = self.width;
        let widths = [2 * w, 4 * w, 8 * w, 8 * w];
        // Stages past the coarsest level would feed nothing.
        let first = STAGE_STRIDES.iter().position(|&s| s == self.strides[0]).unwrap_or(0);
        let stages_used = (first + self.strides.len()).min(STAGE_STRIDES.len());
        let widths = &widths[..stages_used];
        let stages = basic_block_stages(w, widths, self.blocks, device);
        let mut limits = vec![0.0f32];
        limits.extend(self.level_limits.iter().map(|&l| l as f32));
        limits.push(f32::INFINITY);
        let levels = self
            .strides
            .iter()
            .enumerate()
            .map(|(i, &stride)| FcosLevel { stride, min_distance: limits[i], max_distance: limits[i + 1] })
            .collect();
        let shape = FcosHeadShape {
            channels: self.fpn_width,
            classes: self.num_classes,
            tower_convs: self.tower_convs,
            groups: self.groups,
            levels: self.strides.len(),
            star: self.star,
            refine: self.refine,
        };
        Fcos {
            stem: ConvNormActConfig::new(self.in_channels, w, 3).with_stride(2).init(device),
            stages,
            fpn: FpnConfig::new(widths[first..stages_used].to_vec()).with_out_channels(self.fpn_width).init(device),
            head: FcosHead::new(shape, device),
            settings: FcosSettings {
                in_channels: self.in_channels,
                classes: self.num_classes,
                levels,
                first_level: first,
                box_loss: self.box_loss,
                centre_radius: self.centre_radius as f32,
                varifocal: self.varifocal,
                refine: self.refine,
                focal: [self.focal_alpha, self.focal_gamma],
                varifocal_loss: [self.varifocal_alpha, self.varifocal_gamma],
                box_weight: self.box_weight,
                refine_weight: self.refine_weight,
                score_threshold: self.score_threshold as f32,
            },
        }
    }

    pub fn validate(&self) -> Result<(), VisionError> {
        let bad = |m: String| Err(VisionError::Config(m));
        if [self.in_channels, self.num_classes, self.width, self.fpn_width, self.groups].contains(&0) {
            return bad("in_channels, num_classes, width, fpn_width and groups must be positive".into());
        }
        if self.fpn_width % self.groups != 0 {
            return bad(format!("groups ({}) must divide fpn_width ({})", self.groups, self.fpn_width));
        }
        let first = STAGE_STRIDES.iter().position(|&s| Some(&s) == self.strides.first());
        let consecutive = first.is_some_and(|f| self.strides.iter().zip(&STAGE_STRIDES[f..]).all(|(a, b)| a == b))
            && first.unwrap_or(4) + self.strides.len() <= STAGE_STRIDES.len();
        if !consecutive {
            return bad(format!(
                "strides are consecutive stages of 4, 8, 16, 32 (e.g. [4, 8, 16]), got {:?}",
                self.strides
            ));
        }
        let increasing = self.level_limits.windows(2).all(|w| w[0] < w[1]);
        if self.level_limits.len() + 1 != self.strides.len()
            || !increasing
            || self.level_limits.iter().any(|l| !(*l > 0.0 && l.is_finite()))
        {
            return bad(format!(
                "level_limits are the {} increasing positive boundaries between the {} levels, got {:?}",
                self.strides.len().saturating_sub(1),
                self.strides.len(),
                self.level_limits
            ));
        }
        let weights = [self.centre_radius, self.focal_alpha, self.focal_gamma, self.varifocal_alpha];
        if weights.iter().chain(&[self.varifocal_gamma, self.box_weight, self.refine_weight]).any(|v| !(*v >= 0.0)) {
            return bad("centre_radius and the loss weights and exponents must be ≥ 0".into());
        }
        if !(0.0..1.0).contains(&self.score_threshold) {
            return bad(format!("score_threshold must be in [0, 1), got {}", self.score_threshold));
        }
        Ok(())
    }
}

/// `[N, C, h, w]` per level → `[N, Σ h·w, C]`, locations in [`fcos_locations`]' order.
fn flatten_levels<B: Backend>(maps: Vec<Tensor<B, 4>>) -> Tensor<B, 3> {
    let flat = maps
        .into_iter()
        .map(|m| {
            let [n, c, h, w] = m.dims();
            m.reshape([n, c, h * w])
        })
        .collect();
    Tensor::cat(flat, 2).swap_dims(1, 2)
}

/// The head's outputs over all levels: `[N, L, K]` class logits, `[N, L, 4]` initial and
/// (when refining) refined distances, `[N, L, 1]` centre-ness logits.
pub struct FcosOutput<B: Backend> {
    pub class_logits: Tensor<B, 3>,
    pub distances: Tensor<B, 3>,
    pub refined: Option<Tensor<B, 3>>,
    pub centreness: Tensor<B, 3>,
}

/// Boxes `[P, 4]` from locations `[P, 2]` and distances `[P, 4]`.
fn boxes_at<B: Backend>(locations: Tensor<B, 2>, distances: Tensor<B, 2>) -> Tensor<B, 2> {
    let xy = Tensor::cat(vec![locations.clone(), locations], 1);
    let sign = Tensor::<B, 1>::from_floats([-1.0, -1.0, 1.0, 1.0], &xy.device()).reshape([1, 4]);
    xy + distances * sign
}

/// VarifocalNet's IACS target (Sec. 3.1), flattened: the IoU of each positive's predicted box
/// (`predicted` `[P, 4]`) with its object (`objects` `[P, 4]`) at its cell — location × classes +
/// the object's class — of `len` cells, 0 everywhere else. Detached: a target, not a path for
/// the box gradient. The IoU is floored at 10⁻⁶ so a positive stays a positive (the reference
/// code's clamp).
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::detection::iacs_targets;
/// let d = Default::default();
/// // [0, 0, 2, 2] against [1, 0, 3, 2]: overlap 2, union 6, IoU 1/3, at cell 5 of 8.
/// let pred = Tensor::<NdArray, 2>::from_floats([[0.0, 0.0, 2.0, 2.0]], &d);
/// let gt = Tensor::<NdArray, 2>::from_floats([[1.0, 0.0, 3.0, 2.0]], &d);
/// let q: Vec<f32> = iacs_targets(pred, gt, &[5], 8).into_data().to_vec().unwrap();
/// assert!(q.iter().enumerate().all(|(i, &v)| if i == 5 { (v - 1.0 / 3.0).abs() < 1e-6 } else { v == 0.0 }));
/// ```
pub fn iacs_targets<B: Backend>(
    predicted: Tensor<B, 2>,
    objects: Tensor<B, 2>,
    cells: &[i64],
    len: usize,
) -> Tensor<B, 1> {
    let device = predicted.device();
    let q = paired_overlap(predicted.detach(), objects, Overlap::Iou).clamp_min(1e-6).detach();
    let cells = Tensor::<B, 1, Int>::from_data(TensorData::new(cells.to_vec(), [cells.len()]), &device);
    Tensor::<B, 1>::zeros([len], &device).select_assign(0, cells, q, burn::tensor::IndexingUpdateOp::Add)
}

/// −(t log σ(x) + (1 − t) log σ(−x)), summed. Burn 0.21's `BinaryCrossEntropyLoss` takes
/// integer targets, and centre-ness targets are soft (in [0, 1]).
fn binary_cross_entropy_sum<B: Backend>(logits: Tensor<B, 1>, targets: Tensor<B, 1>) -> Tensor<B, 1> {
    (targets.clone() * log_sigmoid(logits.clone()) + (targets.neg() + 1.0) * log_sigmoid(logits.neg())).sum().neg()
}

impl<B: Backend> Fcos<B> {
    pub fn forward(&self, images: Tensor<B, 4>) -> FcosOutput<B> {
        let mut x = self.stem.forward(images);
        let mut features = Vec::with_capacity(self.settings.levels.len());
        for (i, stage) in self.stages.iter().enumerate() {
            x = stage.iter().fold(x, |x, block| block.forward(x));
            if i >= self.settings.first_level {
                features.push(x.clone());
            }
        }
        let pyramid = self.fpn.forward(features);
        let outputs: Vec<LevelOutput<B>> = pyramid
            .into_iter()
            .zip(&self.settings.levels)
            .enumerate()
            .map(|(i, (p, level))| self.head.forward(p, i, level.stride as f32))
            .collect();
        let mut class_logits = Vec::new();
        let mut distances = Vec::new();
        let mut centreness = Vec::new();
        let mut refined = Vec::new();
        for out in outputs {
            class_logits.push(out.class_logits);
            distances.push(out.distances);
            centreness.push(out.centreness);
            refined.extend(out.refined);
        }
        FcosOutput {
            class_logits: flatten_levels(class_logits),
            distances: flatten_levels(distances),
            refined: (!refined.is_empty()).then(|| flatten_levels(refined)),
            centreness: flatten_levels(centreness),
        }
    }
}

impl<B: Backend> ObjectDetector<B> for Fcos<B> {
    fn losses(&self, images: Tensor<B, 4>, objects: &[Vec<LabelledBox>]) -> Vec<(&'static str, Tensor<B, 1>)> {
        let device = images.device();
        let [n, _, height, width] = images.dims();
        let s = &self.settings;
        let out = self.forward(images);
        let [_, locations, k] = out.class_logits.dims();
        let grid = fcos_locations(&s.levels, height, width);
        let radius = (s.centre_radius > 0.0).then_some(s.centre_radius);
        // The positives over the flattened batch: index n·L + location, object class, box, and
        // centre-ness target.
        let (mut index, mut class, mut gt, mut at, mut centre) = (vec![], vec![], vec![], vec![], vec![]);
        for (i, image) in objects.iter().enumerate() {
            let boxes: Vec<[f32; 4]> = image.iter().map(|o| o.bbox).collect();
            let targets = FcosTargets::new(&boxes, &s.levels, height, width, radius);
            for (location, assigned) in targets.assigned.iter().enumerate() {
                if let Some(object) = *assigned {
                    index.push((i * locations + location) as i64);
                    class.push(image[object].class);
                    gt.extend_from_slice(&boxes[object]);
                    at.extend_from_slice(&grid[location]);
                    centre.push(targets.centreness[location]);
                }
            }
        }
        let positives = index.len();
        let class_logits = out.class_logits.reshape([n * locations, k]);
        let normaliser = positives.max(1) as f64;
        let zero = || Tensor::<B, 1>::zeros([1], &device);
        let mut total = zero();
        let mut terms = Vec::new();
        let (mut box_loss, mut refine_loss, mut iacs) = (zero(), zero(), None);
        if positives > 0 {
            let rows = Tensor::<B, 1, Int>::from_data(TensorData::new(index.clone(), [positives]), &device);
            let gt = Tensor::<B, 2>::from_data(TensorData::new(gt, [positives, 4]), &device);
            let at = Tensor::<B, 2>::from_data(TensorData::new(at, [positives, 2]), &device);
            let weights = Tensor::<B, 1>::from_data(TensorData::new(centre.clone(), [positives]), &device);
            let weight_sum = centre.iter().sum::<f32>().max(1e-6) as f64;
            let iou_loss = IouLossConfig::new().with_kind(s.box_loss).with_reduction(Reduction::None).init();
            let boxes_of =
                |d: Tensor<B, 3>| boxes_at(at.clone(), d.reshape([n * locations, 4]).select(0, rows.clone()));
            let initial = boxes_of(out.distances.clone());
            box_loss = (iou_loss.forward(initial.clone(), gt.clone()) * weights.clone()).sum().div_scalar(weight_sum);
            let last = match &out.refined {
                Some(refined) => {
                    let refined = boxes_of(refined.clone());
                    refine_loss =
                        (iou_loss.forward(refined.clone(), gt.clone()) * weights).sum().div_scalar(weight_sum);
                    refined
                }
                None => initial,
            };
            if s.varifocal {
                iacs = Some((last, gt));
            }
        }
        let class_loss = if s.varifocal {
            let target = match iacs {
                Some((last, gt)) => {
                    let cells: Vec<i64> = index.iter().zip(&class).map(|(&r, &c)| r * k as i64 + c as i64).collect();
                    iacs_targets(last, gt, &cells, n * locations * k)
                }
                None => Tensor::zeros([n * locations * k], &device),
            };
            let [alpha, gamma] = s.varifocal_loss;
            let loss =
                VarifocalLossConfig::new().with_alpha(alpha).with_gamma(gamma).with_reduction(Reduction::Sum).init();
            loss.forward(class_logits.reshape([n * locations * k]), target).div_scalar(normaliser)
        } else {
            let mut one_hot = vec![0f32; n * locations * k];
            for (&r, &c) in index.iter().zip(&class) {
                one_hot[r as usize * k + c] = 1.0;
            }
            let target = Tensor::<B, 2>::from_data(TensorData::new(one_hot, [n * locations, k]), &device);
            let [alpha, gamma] = s.focal;
            let loss = SigmoidFocalLossConfig::new()
                .with_alpha(Some(alpha))
                .with_gamma(gamma)
                .with_reduction(Reduction::Sum)
                .init();
            loss.forward(class_logits, target).div_scalar(normaliser)
        };
        total = total + class_loss.clone() + box_loss.clone().mul_scalar(s.box_weight);
        terms.push(("class_loss", class_loss));
        terms.push(("box_loss", box_loss));
        if !s.varifocal {
            let centreness_loss = if positives > 0 {
                let rows = Tensor::<B, 1, Int>::from_data(TensorData::new(index, [positives]), &device);
                let logits = out.centreness.reshape([n * locations]).select(0, rows);
                let targets = Tensor::<B, 1>::from_data(TensorData::new(centre, [positives]), &device);
                binary_cross_entropy_sum(logits, targets).div_scalar(normaliser)
            } else {
                zero()
            };
            total = total + centreness_loss.clone();
            terms.push(("centreness_loss", centreness_loss));
        }
        if s.refine {
            total = total + refine_loss.clone().mul_scalar(s.refine_weight);
            terms.push(("refine_loss", refine_loss));
        }
        let mut all = vec![("loss", total)];
        all.extend(terms);
        all
    }

    fn detect(&self, images: Tensor<B, 4>, top: usize) -> Vec<Vec<ScoredBox>> {
        let [n, _, height, width] = images.dims();
        let s = &self.settings;
        let out = self.forward(images);
        let [_, locations, k] = out.class_logits.dims();
        let class_scores = sigmoid(out.class_logits);
        // FCOS ranks by √(class · centre-ness) (the authors' code); VarifocalNet by the IACS.
        let scores =
            if s.varifocal { class_scores.clone() } else { (class_scores.clone() * sigmoid(out.centreness)).sqrt() };
        let distances = out.refined.unwrap_or(out.distances);
        let read = |t: Tensor<B, 3>| t.into_data().convert::<f32>().to_vec::<f32>().expect("float outputs");
        let (class_scores, scores, distances) = (read(class_scores), read(scores), read(distances));
        let grid = fcos_locations(&s.levels, height, width);
        (0..n)
            .map(|i| {
                let base = i * locations;
                let boxes: Vec<[f32; 4]> = (0..locations)
                    .map(|l| {
                        let d = &distances[(base + l) * 4..(base + l) * 4 + 4];
                        let [x, y] = grid[l];
                        [x - d[0], y - d[1], x + d[2], y + d[3]]
                    })
                    .collect();
                // The threshold is on the class score, as in mmdetection; the ranking on the score.
                let own = &scores[base * k..(base + locations) * k];
                let gated: Vec<f32> = own
                    .iter()
                    .zip(&class_scores[base * k..(base + locations) * k])
                    .map(|(&score, &c)| if c > s.score_threshold { score } else { 0.0 })
                    .collect();
                dense_candidates(&gated, &boxes, k, 0.0, top, height, width)
            })
            .collect()
    }

    fn classes(&self) -> usize {
        self.settings.classes
    }

    fn check_input(&self, [c, h, w]: [usize; 3]) -> Result<(), VisionError> {
        if c != self.settings.in_channels {
            return Err(VisionError::Input(format!(
                "the network takes {}-channel images, got {c} channels",
                self.settings.in_channels
            )));
        }
        let coarsest = self.settings.levels.last().map_or(32, |l| l.stride);
        if h == 0 || w == 0 || h % coarsest != 0 || w % coarsest != 0 {
            return Err(VisionError::Input(format!(
                "the FPN upsamples its coarsest level (stride {coarsest}) back exactly, so height and width must be multiples of {coarsest}; got {h}×{w}"
            )));
        }
        Ok(())
    }
}

impl ModelFamily for FcosConfig {
    const VARIANTS: &'static [Variant<Self>] = &[
        Variant::new(
            "fcos",
            "FCOS (Tian et al. 2019): per-location classes, l/t/r/b and centre-ness on an FPN (P2–P4 by default, `strides`); IoU-family box loss by name",
            [1, 128, 128],
            FcosConfig::new,
        ),
        Variant::new(
            "vfnet",
            "VarifocalNet (Zhang et al. 2021): FCOS with the IACS target and varifocal loss, star-shaped deformable features and box refinement",
            [1, 128, 128],
            vfnet,
        ),
    ];

    fn check(&self) -> Result<(), VisionError> {
        self.validate()
    }
}

impl DetectorFamily for FcosConfig {
    fn init_with<B: AutodiffBackend, J: OnDetector<B>>(&self, device: &B::Device, job: J) -> J::Output {
        job.run(self.init::<B>(device))
    }
}
