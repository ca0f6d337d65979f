//! Position-sensitive RoI pooling (Dai, Li, He, Sun 2016, "R-FCN: Object Detection via
//! Region-based Fully Convolutional Networks", Sec. 2, Eq. 1): the last conv layer produces k²
//! score maps per class, one for each cell of a k×k grid over the object (top-left part,
//! top-centre, …), and bin (i, j) of an RoI averages only the map for cell (i, j). Translation
//! variance thus enters a fully convolutional detector without a per-RoI subnetwork.
//!
//! Eq. 1: r_c(i, j) = Σ_{(x, y) ∈ bin(i, j)} z_{i,j,c}(x + x₀, y + y₀) / n. By default the k²(C+1)
//! maps are ordered as Fig. 1 draws them, a group of C channels per bin: z_{i,j,c} is channel
//! (i·k + j)·C + c ([`ScoreMapOrder::BinMajor`]). The released Caffe code and torchvision's
//! `ps_roi_pool` index channel (c·k + i)·k + j instead ([`ScoreMapOrder::ClassMajor`]).

use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Which channel holds z_{i,j,c}, the score map of class c for bin (i, j) of a k×k grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreMapOrder {
    /// (i·k + j)·C + c: k² consecutive groups of C class maps (R-FCN Fig. 1).
    BinMajor,
    /// (c·k + i)·k + j: C consecutive groups of k² bin maps (R-FCN's Caffe code, torchvision).
    ClassMajor,
}

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::PsRoiPoolConfig;
/// let device = Default::default();
/// let pool = PsRoiPoolConfig::new().with_output_size(3).with_spatial_scale(1.0).init();
/// let maps = Tensor::<NdArray, 4>::ones([2, 9 * 4, 12, 12], &device); // k = 3, C = 4
/// let rois = Tensor::from_floats([[0.0, 0.0, 0.0, 6.0, 6.0], [1.0, 2.0, 3.0, 11.0, 9.0]], &device);
/// assert_eq!(pool.forward(maps, rois).dims(), [2, 4, 3, 3]);
/// ```
#[derive(Config, Debug)]
pub struct PsRoiPoolConfig {
    /// k: the RoI is divided into k×k bins (7×7 in R-FCN's main results).
    #[config(default = 7)]
    pub output_size: usize,
    /// Multiplies RoI coordinates (input-image pixels) to reach score-map pixels: 1/16 for
    /// R-FCN's ResNet-101, whose conv5 is dilated to keep stride 16.
    #[config(default = 0.0625)]
    pub spatial_scale: f64,
    #[config(default = "ScoreMapOrder::BinMajor")]
    pub order: ScoreMapOrder,
}

/// Parameter-free, like Burn's own pooling layers, so it is not generic over a backend.
#[derive(Module, Clone, Debug)]
pub struct PsRoiPool {
    #[module(skip)]
    pub output_size: usize,
    #[module(skip)]
    pub spatial_scale: f64,
    #[module(skip)]
    pub order: ScoreMapOrder,
}

impl PsRoiPoolConfig {
    pub fn init(&self) -> PsRoiPool {
        assert!(self.output_size > 0, "k must be positive");
        PsRoiPool { output_size: self.output_size, spatial_scale: self.spatial_scale, order: self.order }
    }
}

impl PsRoiPool {
    /// Score maps `[N, k²·C, H, W]` and RoIs `[R, 5]` rows (batch index, x1, y1, x2, y2) in input
    /// pixels → `[R, C, k, k]`.
    ///
    /// As in torchvision, corners are scaled and rounded to the map grid, an RoI is at least one
    /// pixel wide, bin (i, j) covers rows ⌊i·h/k⌋ to ⌈(i+1)·h/k⌉ (exclusive) from the RoI's top,
    /// clipped to the map, and a bin left empty by the clipping gives 0.
    pub fn forward<B: Backend>(&self, maps: Tensor<B, 4>, rois: Tensor<B, 2>) -> Tensor<B, 4> {
        let [n, channels, height, width] = maps.dims();
        let k = self.output_size;
        let kk = k * k;
        assert!(channels % kk == 0, "score maps need k²·C channels, got {channels} for k = {k}");
        let classes = channels / kk;
        let device = maps.device();
        // [N, k², C, H, W]: bin t's class maps are maps[b, t] whichever the channel order.
        let grouped: Tensor<B, 5> = match self.order {
            ScoreMapOrder::BinMajor => maps.reshape([n, kk, classes, height, width]),
            ScoreMapOrder::ClassMajor => maps.reshape([n, classes, kk, height, width]).swap_dims(1, 2),
        };
        let [num_rois, columns] = rois.dims();
        assert_eq!(columns, 5, "RoIs are rows of (batch index, x1, y1, x2, y2)");
        if num_rois == 0 {
            return Tensor::zeros([0, classes, k, k], &device);
        }
        let coords: Vec<f64> = rois.into_data().convert::<f64>().to_vec().unwrap();
        let pooled = coords
            .chunks(5)
            .map(|roi| {
                let batch = roi[0] as usize;
                assert!(batch < n, "RoI batch index {batch} out of range for {n} images");
                let grid = |lo: f64, hi: f64, size: usize| {
                    let start = (lo * self.spatial_scale).round() as i64;
                    let extent = ((hi * self.spatial_scale).round() as i64 - start).max(1) as f64;
                    // The i-th of k bins along this axis, clipped to [0, size).
                    move |i: usize| {
                        let lo = (i as f64 * extent / k as f64).floor() as i64 + start;
                        let hi = ((i + 1) as f64 * extent / k as f64).ceil() as i64 + start;
                        (lo.clamp(0, size as i64) as usize, hi.clamp(0, size as i64) as usize)
                    }
                };
                let rows = grid(roi[2], roi[4], height);
                let cols = grid(roi[1], roi[3], width);
                let bins = (0..kk)
                    .map(|t| {
                        let ((y0, y1), (x0, x1)) = (rows(t / k), cols(t % k));
                        if y1 <= y0 || x1 <= x0 {
                            return Tensor::zeros([1, classes], &device);
                        }
                        // A mean of row means over a rectangle is the mean over the rectangle.
                        grouped
                            .clone()
                            .slice(s![batch, t, .., y0..y1, x0..x1])
                            .mean_dim(4)
                            .mean_dim(3)
                            .reshape([1, classes])
                    })
                    .collect();
                // [k², C] → [1, C, k, k]
                Tensor::cat(bins, 0).swap_dims(0, 1).reshape([1, classes, k, k])
            })
            .collect();
        Tensor::cat(pooled, 0)
    }
}
