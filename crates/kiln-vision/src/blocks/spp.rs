//! Spatial pyramid pooling (He, Zhang, Ren, Sun 2014, "Spatial Pyramid Pooling in Deep
//! Convolutional Networks for Visual Recognition", Sec. 2.1–2.2): max-pool the last feature map
//! into b×b bins for each pyramid level b and concatenate, so images of any size give one
//! fixed-length vector `[N, C·Σb²]` that a fully connected layer can take.

use burn::prelude::*;

use crate::complexity::{ShapeTrace, Traceable};

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::SpatialPyramidPoolingConfig;
/// let spp = SpatialPyramidPoolingConfig::new().init(); // bins 1, 2, 4: 21 per channel
/// for [h, w] in [[13, 13], [20, 27]] {
///     let y = spp.forward(Tensor::<NdArray, 4>::zeros([2, 8, h, w], &Default::default()));
///     assert_eq!(y.dims(), [2, spp.output_len(8)]);
/// }
/// assert_eq!(spp.output_len(8), 8 * 21);
/// ```
#[derive(Config, Debug)]
pub struct SpatialPyramidPoolingConfig {
    /// Bins per side at each pyramid level: {1, 2, 4} is the paper's Fig. 3 (21 bins per
    /// channel); its ZF-5 classification experiments use {1, 2, 3, 6}.
    #[config(default = "vec![1, 2, 4]")]
    pub bins: Vec<usize>,
}

/// Parameter-free, like Burn's own pooling layers, so it is not generic over a backend.
#[derive(Module, Clone, Debug)]
pub struct SpatialPyramidPooling {
    #[module(skip)]
    pub bins: Vec<usize>,
}

impl SpatialPyramidPoolingConfig {
    pub fn init(&self) -> SpatialPyramidPooling {
        assert!(!self.bins.is_empty() && self.bins.iter().all(|&b| b > 0), "SPP needs positive bin counts");
        SpatialPyramidPooling { bins: self.bins.clone() }
    }
}

impl SpatialPyramidPooling {
    /// Length of the pooled vector for `channels` input channels: C·Σb².
    pub fn output_len(&self, channels: usize) -> usize {
        channels * self.bins.iter().map(|b| b * b).sum::<usize>()
    }

    /// `[N, C, H, W]` → `[N, C·Σb²]`. Each level is flattened channel-major (`[N, C, b, b]` in
    /// row-major order) and the levels follow `bins` in order.
    pub fn forward<B: Backend>(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let [n, c, _, _] = x.dims();
        let levels = self.bins.iter().map(|&b| adaptive_max_pool2d(x.clone(), b).reshape([n, c * b * b])).collect();
        Tensor::cat(levels, 1)
    }
}

/// Max pooling into `bins`×`bins` windows with PyTorch's adaptive bin edges: bin i spans
/// [⌊i·H/b⌋, ⌈(i+1)·H/b⌉), so every bin is non-empty (even when H < b) and neighbouring bins may
/// overlap by a pixel. The paper's sliding window (size ⌈H/b⌉, stride ⌊H/b⌋) agrees when b divides
/// H; the adaptive edges also cover the whole map when it does not.
pub fn adaptive_max_pool2d<B: Backend>(x: Tensor<B, 4>, bins: usize) -> Tensor<B, 4> {
    let [_, _, h, w] = x.dims();
    let edges = |size: usize, i: usize| (i * size / bins, ((i + 1) * size).div_ceil(bins));
    // A maximum over a rectangle is a maximum over its rows of maxima over its columns, so the
    // b² windows cost 2b slices.
    let rows = (0..bins)
        .map(|i| {
            let (start, end) = edges(h, i);
            x.clone().slice(s![.., .., start..end, ..]).max_dim(2)
        })
        .collect();
    let rows = Tensor::cat(rows, 2);
    let cells = (0..bins)
        .map(|j| {
            let (start, end) = edges(w, j);
            rows.clone().slice(s![.., .., .., start..end]).max_dim(3)
        })
        .collect();
    Tensor::cat(cells, 3)
}

impl Traceable for SpatialPyramidPooling {
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        input.reshape([self.output_len(input.shape[0]), 1, 1])
    }
}
