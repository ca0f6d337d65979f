//! CenterNet (Zhou, Wang, Krähenbühl 2019, "Objects as Points"): every object is the peak of its
//! class's heatmap at output stride 4, with its width and height and the sub-pixel offset of its
//! centre regressed at that peak (Sec. 3). Training: the penalty-reduced focal loss on the
//! heatmaps (Eq. 1) plus `size_weight` × L1 on sizes (Eq. 3, λ_size = 0.1) and `offset_weight` ×
//! L1 on offsets (Eq. 2, λ_off = 1), both at the centres only. Decoding: 3×3 peaks, no NMS.
//!
//! The backbone is small and from the zoo's blocks: a stride-2 conv-BN-ReLU stem, three ResNet
//! basic-block stages (strides 4, 8, 16) and an upsampling path back to stride 4 that adds each
//! finer stage (the paper's ResNet variant upsamples with deconvolutions; nearest upsampling
//! followed by a 3×3 conv is the FPN way and has the same receptive field).

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::prelude::*;
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::backend::AutodiffBackend;
use kiln_losses::CenterNetFocalLossConfig;

use super::family::{DetectorFamily, OnDetector};
use super::{basic_block_stages, centernet_peaks, CenterNetTargets, LabelledBox, ObjectDetector, ScoredBox};
use crate::blocks::{upsample_nearest, BasicBlock, ConvNormAct, ConvNormActConfig};
use crate::family::{ModelFamily, Variant};
use crate::VisionError;

/// The heatmap's stride: output pixels are 4 × 4 input pixels.
pub const CENTERNET_STRIDE: usize = 4;

/// The heatmap bias at initialisation, −ln((1 − π)/π) with π = 0.1: every pixel starts at
/// probability 0.1 so that the many background pixels do not swamp the first steps (the reference
/// code's −2.19, from RetinaNet's prior, Lin et al. 2017 Sec. 4.1).
pub const HEATMAP_PRIOR_BIAS: f32 = -2.19;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::detection::{CenterNetConfig, LabelledBox, ObjectDetector};
/// let device = Default::default();
/// let net = CenterNetConfig::new().with_width(4).with_head_width(8).init::<NdArray>(&device);
/// let (heat, size, offset) = net.forward(Tensor::zeros([2, 1, 64, 48], &device));
/// assert_eq!((heat.dims(), size.dims(), offset.dims()), ([2, 10, 16, 12], [2, 2, 16, 12], [2, 2, 16, 12]));
/// let objects = vec![vec![LabelledBox { bbox: [4.0, 4.0, 20.0, 28.0], class: 3 }], vec![]];
/// let losses = net.losses(Tensor::zeros([2, 1, 64, 48], &device), &objects);
/// assert_eq!(losses.iter().map(|l| l.0).collect::<Vec<_>>(), ["loss", "heat_loss", "size_loss", "offset_loss"]);
/// ```
#[derive(Config, Debug)]
pub struct CenterNetConfig {
    #[config(default = 1)]
    pub in_channels: usize,
    /// Object classes (MNIST-det: the ten digits).
    #[config(default = 10)]
    pub num_classes: usize,
    /// Channels of the stem; the stages have 2, 4 and 8 times as many, the output 2 times.
    #[config(default = 16)]
    pub width: usize,
    /// Basic blocks per stage.
    #[config(default = 1)]
    pub blocks: usize,
    /// Channels of each head's 3×3 conv (the paper's 256 on COCO).
    #[config(default = 64)]
    pub head_width: usize,
    /// λ_size of Eq. 5.
    #[config(default = 0.1)]
    pub size_weight: f64,
    /// λ_off of Eq. 5.
    #[config(default = 1.0)]
    pub offset_weight: f64,
    /// The IoU a box within the Gaussian's radius still reaches (CornerNet's 0.7).
    #[config(default = 0.7)]
    pub min_overlap: f64,
    /// α and β of the focal loss, Eq. 1.
    #[config(default = 2.0)]
    pub focal_alpha: f64,
    #[config(default = 4.0)]
    pub focal_beta: f64,
}

/// One output head: 3×3 conv, ReLU, 1×1 conv (Sec. 4, "Implementation details").
#[derive(Module, Debug)]
pub struct CenterNetHead<B: Backend> {
    pub hidden: Conv2d<B>,
    pub out: Conv2d<B>,
}

impl<B: Backend> CenterNetHead<B> {
    fn new(channels: usize, hidden: usize, outputs: usize, device: &B::Device) -> Self {
        Self {
            hidden: Conv2dConfig::new([channels, hidden], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            out: Conv2dConfig::new([hidden, outputs], [1, 1]).init(device),
        }
    }

    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        self.out.forward(relu(self.hidden.forward(x)))
    }
}

#[derive(Module, Debug)]
pub struct CenterNet<B: Backend> {
    pub stem: ConvNormAct<B>,
    /// Strides 4, 8, 16.
    pub stages: Vec<Vec<BasicBlock<B>>>,
    /// 1×1 projections of the coarser map to the finer stage's width, before upsampling.
    pub reduce: Vec<ConvNormAct<B>>,
    /// 3×3 convs on each sum of upsampled and finer maps.
    pub fuse: Vec<ConvNormAct<B>>,
    pub heat: CenterNetHead<B>,
    pub size: CenterNetHead<B>,
    pub offset: CenterNetHead<B>,
    #[module(skip)]
    pub settings: CenterNetSettings,
}

/// What the loss and the checks need of the config.
#[derive(Debug, Clone, Copy)]
pub struct CenterNetSettings {
    pub in_channels: usize,
    pub classes: usize,
    pub size_weight: f64,
    pub offset_weight: f64,
    pub min_overlap: f64,
    pub focal_alpha: f64,
    pub focal_beta: f64,
}

impl CenterNetConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> CenterNet<B> {
        let w = self.width;
        let widths = [2 * w, 4 * w, 8 * w];
        let stages = basic_block_stages(w, &widths, self.blocks, device);
        let reduce = [(widths[2], widths[1]), (widths[1], widths[0])]
            .map(|(cin, cout)| ConvNormActConfig::new(cin, cout, 1).init(device))
            .into();
        let fuse = [widths[1], widths[0]].map(|c| ConvNormActConfig::new(c, c, 3).init(device)).into();
        let mut heat = CenterNetHead::new(widths[0], self.head_width, self.num_classes, device);
        heat.out.bias = Some(Param::from_tensor(Tensor::full([self.num_classes], HEATMAP_PRIOR_BIAS, device)));
        CenterNet {
            stem: ConvNormActConfig::new(self.in_channels, w, 3).with_stride(2).init(device),
            stages,
            reduce,
            fuse,
            heat,
            size: CenterNetHead::new(widths[0], self.head_width, 2, device),
            offset: CenterNetHead::new(widths[0], self.head_width, 2, device),
            settings: CenterNetSettings {
                in_channels: self.in_channels,
                classes: self.num_classes,
                size_weight: self.size_weight,
                offset_weight: self.offset_weight,
                min_overlap: self.min_overlap,
                focal_alpha: self.focal_alpha,
                focal_beta: self.focal_beta,
            },
        }
    }

    pub fn validate(&self) -> Result<(), VisionError> {
        if self.in_channels == 0 || self.num_classes == 0 || self.width == 0 || self.head_width == 0 {
            return Err(VisionError::Config("in_channels, num_classes, width and head_width must be positive".into()));
        }
        if !(self.min_overlap > 0.0 && self.min_overlap < 1.0) {
            return Err(VisionError::Config(format!("min_overlap must be in (0, 1), got {}", self.min_overlap)));
        }
        if [self.size_weight, self.offset_weight, self.focal_alpha, self.focal_beta].iter().any(|v| !(*v >= 0.0)) {
            return Err(VisionError::Config(
                "size_weight, offset_weight, focal_alpha and focal_beta must be ≥ 0".into(),
            ));
        }
        Ok(())
    }
}

impl<B: Backend> CenterNet<B> {
    /// Heatmap logits `[N, K, H/4, W/4]`, sizes and offsets `[N, 2, H/4, W/4]` (width then
    /// height, x then y, in output pixels).
    pub fn forward(&self, images: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 4>, Tensor<B, 4>) {
        let mut x = self.stem.forward(images);
        let mut levels = Vec::with_capacity(3);
        for stage in &self.stages {
            x = stage.iter().fold(x, |x, block| block.forward(x));
            levels.push(x.clone());
        }
        let mut top = levels.pop().expect("three stages");
        for (reduce, fuse) in self.reduce.iter().zip(&self.fuse) {
            let finer = levels.pop().expect("one finer level per upsampling");
            top = fuse.forward(upsample_nearest(reduce.forward(top), 2) + finer);
        }
        (self.heat.forward(top.clone()), self.size.forward(top.clone()), self.offset.forward(top))
    }
}

impl<B: Backend> ObjectDetector<B> for CenterNet<B> {
    fn losses(&self, images: Tensor<B, 4>, objects: &[Vec<LabelledBox>]) -> Vec<(&'static str, Tensor<B, 1>)> {
        let device = images.device();
        let (heat, size, offset) = self.forward(images);
        let [n, k, h, w] = heat.dims();
        let plane = h * w;
        let (mut heatmaps, mut sizes, mut offsets) = (Vec::new(), vec![0f32; n * 2 * plane], vec![0f32; n * 2 * plane]);
        let mut mask = vec![0f32; n * plane];
        let mut count = 0usize;
        for (i, image) in objects.iter().enumerate() {
            let boxes: Vec<[f32; 4]> = image.iter().map(|o| o.bbox).collect();
            let labels: Vec<usize> = image.iter().map(|o| o.class).collect();
            let t = CenterNetTargets::new(&boxes, &labels, k, h, w, CENTERNET_STRIDE as f32, self.settings.min_overlap);
            heatmaps.extend_from_slice(&t.heatmap);
            // Two centres on one pixel: the later object's size is regressed there (the reference
            // code gathers both, which asks one output for two values).
            for ((&at, s), o) in t.centres.iter().zip(&t.sizes).zip(&t.offsets) {
                for d in 0..2 {
                    sizes[(i * 2 + d) * plane + at] = s[d];
                    offsets[(i * 2 + d) * plane + at] = o[d];
                }
                mask[i * plane + at] = 1.0;
            }
            count += t.centres.len();
        }
        let tensor = |v: Vec<f32>, c: usize| Tensor::<B, 4>::from_data(TensorData::new(v, [n, c, h, w]), &device);
        let heatmap = tensor(heatmaps, k);
        let mask = tensor(mask, 1);
        let focal = CenterNetFocalLossConfig::new()
            .with_alpha(self.settings.focal_alpha)
            .with_beta(self.settings.focal_beta)
            .init()
            .forward(heat, heatmap);
        let objects = count.max(1) as f64;
        let l1 =
            |pred: Tensor<B, 4>, target: Tensor<B, 4>| ((pred - target).abs() * mask.clone()).sum().div_scalar(objects);
        let size_loss = l1(size, tensor(sizes, 2));
        let offset_loss = l1(offset, tensor(offsets, 2));
        let total = focal.clone()
            + size_loss.clone().mul_scalar(self.settings.size_weight)
            + offset_loss.clone().mul_scalar(self.settings.offset_weight);
        vec![("loss", total), ("heat_loss", focal), ("size_loss", size_loss), ("offset_loss", offset_loss)]
    }

    fn detect(&self, images: Tensor<B, 4>, top: usize) -> Vec<Vec<ScoredBox>> {
        let (heat, size, offset) = self.forward(images);
        let [n, k, h, w] = heat.dims();
        let read = |t: Tensor<B, 4>| t.into_data().convert::<f32>().to_vec::<f32>().expect("float maps");
        let (heat, size, offset) = (read(sigmoid(heat)), read(size), read(offset));
        let plane = h * w;
        (0..n)
            .map(|i| {
                centernet_peaks(
                    &heat[i * k * plane..(i + 1) * k * plane],
                    &size[i * 2 * plane..(i + 1) * 2 * plane],
                    &offset[i * 2 * plane..(i + 1) * 2 * plane],
                    k,
                    h,
                    w,
                    CENTERNET_STRIDE as f32,
                    top,
                )
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
        if h == 0 || w == 0 || h % 16 != 0 || w % 16 != 0 {
            return Err(VisionError::Input(format!(
                "CenterNet's stages halve the image four times and upsample back exactly, so height and width must be multiples of 16; got {h}×{w}"
            )));
        }
        Ok(())
    }
}

impl ModelFamily for CenterNetConfig {
    const VARIANTS: &'static [Variant<Self>] = &[Variant::new(
        "centernet",
        "CenterNet (Zhou et al. 2019, Objects as Points): class heatmaps, sizes and offsets at stride 4; peaks instead of NMS",
        [1, 128, 128],
        CenterNetConfig::new,
    )];

    fn check(&self) -> Result<(), VisionError> {
        self.validate()
    }
}

impl DetectorFamily for CenterNetConfig {
    fn init_with<B: AutodiffBackend, J: OnDetector<B>>(&self, device: &B::Device, job: J) -> J::Output {
        job.run(self.init::<B>(device))
    }
}
