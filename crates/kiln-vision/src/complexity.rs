//! Multiply-add counting by tracing shapes through a network's layers.
//!
//! Counts follow the convention of the MobileNet and ShuffleNet papers: one multiply-add per
//! weight use in convolutions and linear layers; pooling, activations and biases are free.

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::conv::Conv2d;
use burn::nn::PaddingConfig2d;
use burn::prelude::{Backend, Tensor};

/// Multiply-adds of one forward pass (batch 1) and the final activation shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Complexity {
    pub multiply_adds: u64,
    pub output: [usize; 3],
}

/// Follows a `[C, H, W]` activation through layers, accumulating multiply-adds.
#[derive(Debug, Clone, Copy)]
pub struct ShapeTrace {
    pub shape: [usize; 3],
    pub multiply_adds: u64,
}

impl ShapeTrace {
    pub fn new(input: [usize; 3]) -> Self {
        Self { shape: input, multiply_adds: 0 }
    }

    /// A square-kernel convolution with symmetric padding.
    pub fn conv2d(self, out_channels: usize, kernel: usize, stride: usize, padding: usize, groups: usize) -> Self {
        self.conv_geometry(out_channels, [kernel; 2], [stride; 2], [2 * padding; 2], [1, 1], groups)
    }

    /// Any Burn 2-D convolution, its geometry read from the module itself.
    pub fn conv<B: Backend>(self, conv: &Conv2d<B>) -> Self {
        let [out_channels, _, kh, kw] = conv.weight.dims();
        let [_, h, w] = self.shape;
        let padding = padding_totals(&conv.padding, [h, w], [kh, kw], conv.stride, conv.dilation);
        self.conv_geometry(out_channels, [kh, kw], conv.stride, padding, conv.dilation, conv.groups)
    }

    /// A convolution given by its geometry; `padding` is the total added to each of height and width.
    pub fn conv_geometry(
        mut self,
        out_channels: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        groups: usize,
    ) -> Self {
        let [c, h, w] = self.shape;
        let out = |size: usize, i: usize| {
            (size + padding[i]).saturating_sub(dilation[i] * (kernel[i] - 1) + 1) / stride[i] + 1
        };
        let (out_h, out_w) = (out(h, 0), out(w, 1));
        let per_output = (c / groups * kernel[0] * kernel[1]) as u64;
        self.multiply_adds += per_output * (out_channels * out_h * out_w) as u64;
        self.shape = [out_channels, out_h, out_w];
        self
    }

    /// A square pooling window with symmetric padding; `ceil_mode` rounds the output size up as
    /// PyTorch's pooling option does.
    pub fn pool(mut self, kernel: usize, stride: usize, padding: usize, ceil_mode: bool) -> Self {
        let [c, h, w] = self.shape;
        let out = |size: usize| {
            let span = size + 2 * padding - kernel;
            let mut out = if ceil_mode { span.div_ceil(stride) + 1 } else { span / stride + 1 };
            // PyTorch drops a last window that would start in the right padding.
            if ceil_mode && (out - 1) * stride >= size + padding {
                out -= 1;
            }
            out
        };
        self.shape = [c, out(h), out(w)];
        self
    }

    /// Global average (or max) pooling to `[C, 1, 1]`.
    pub fn global_pool(mut self) -> Self {
        self.shape = [self.shape[0], 1, 1];
        self
    }

    /// Nearest or bilinear upsampling by an integer factor (no multiply-adds counted).
    pub fn upsample(mut self, factor: usize) -> Self {
        self.shape = [self.shape[0], self.shape[1] * factor, self.shape[2] * factor];
        self
    }

    /// Counts multiply-adds that the shape trace cannot see (attention, a custom operator).
    pub fn add_multiply_adds(mut self, count: u64) -> Self {
        self.multiply_adds += count;
        self
    }

    /// Replaces the activation shape, for reshapes and channel splits.
    pub fn reshape(mut self, shape: [usize; 3]) -> Self {
        self.shape = shape;
        self
    }

    /// A branch that starts from this trace's current shape and has counted nothing yet.
    pub fn fork(&self) -> Self {
        Self { shape: self.shape, multiply_adds: 0 }
    }

    /// Joins a branch by element-wise sum (residual connection): its cost is added, the shape kept.
    pub fn add(mut self, branch: Self) -> Self {
        debug_assert_eq!(self.shape, branch.shape, "residual branch shapes differ");
        self.multiply_adds += branch.multiply_adds;
        self
    }

    /// Joins branches by channel concatenation: costs add, channels add, spatial sizes must agree.
    pub fn concat(mut self, branches: impl IntoIterator<Item = Self>) -> Self {
        let mut channels = 0;
        let mut spatial = None;
        for branch in branches {
            debug_assert!(spatial.is_none_or(|s| s == [branch.shape[1], branch.shape[2]]), "concat of unequal sizes");
            spatial = Some([branch.shape[1], branch.shape[2]]);
            channels += branch.shape[0];
            self.multiply_adds += branch.multiply_adds;
        }
        let [h, w] = spatial.unwrap_or([self.shape[1], self.shape[2]]);
        self.shape = [channels, h, w];
        self
    }

    /// Runs this trace through a block.
    pub fn then(self, block: &impl Traceable) -> Self {
        block.trace(self)
    }

    /// A square pooling window without padding.
    pub fn pool2d(self, kernel: usize, stride: usize) -> Self {
        self.pool(kernel, stride, 0, false)
    }

    /// Flattens and applies a linear layer.
    pub fn linear(mut self, out_features: usize) -> Self {
        let inputs: usize = self.shape.iter().product();
        self.multiply_adds += (inputs * out_features) as u64;
        self.shape = [out_features, 1, 1];
        self
    }

    pub fn finish(self) -> Complexity {
        Complexity { multiply_adds: self.multiply_adds, output: self.shape }
    }
}

/// Total padding added to height and width by a Burn padding setting; "same" keeps the size at
/// stride 1 and rounds up otherwise.
pub fn padding_totals(
    padding: &PaddingConfig2d,
    [h, w]: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
) -> [usize; 2] {
    match *padding {
        PaddingConfig2d::Explicit(top, left, bottom, right) => [top + bottom, left + right],
        PaddingConfig2d::Valid => [0, 0],
        PaddingConfig2d::Same => {
            let total = |size: usize, i: usize| {
                let out = size.div_ceil(stride[i]);
                ((out - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1).saturating_sub(size)
            };
            [total(h, 0), total(w, 1)]
        }
    }
}

/// A layer or block that can follow an activation shape through itself, counting multiply-adds.
///
/// Backbones implement [`crate::ImageClassifier::complexity`] by chaining their blocks' traces,
/// so a count is read from the same modules that run, not from a separate table.
pub trait Traceable {
    fn trace(&self, input: ShapeTrace) -> ShapeTrace;
}

impl<B: Backend> Traceable for Conv2d<B> {
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        input.conv(self)
    }
}

impl<B: Backend> Traceable for burn::nn::Linear<B> {
    /// A linear layer on the flattened activation.
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        input.linear(self.weight.dims()[1])
    }
}

impl<T: Traceable> Traceable for Vec<T> {
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        self.iter().fold(input, |trace, block| block.trace(trace))
    }
}

/// Trainable parameters, as PyTorch's `sum(p.numel() for p in model.parameters())` counts them:
/// batch-norm running statistics are state, not parameters (Burn's `num_params` counts both).
///
/// Trainability is read from gradient tracking, so call it on a module built on an autodiff
/// backend.
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use burn::nn::BatchNormConfig;
/// let norm = BatchNormConfig::new(8).init::<Autodiff<NdArray>>(&Default::default());
/// assert_eq!(kiln_vision::complexity::trainable_parameters(&norm), 16); // γ and β
/// ```
pub fn trainable_parameters<B: Backend, M: Module<B>>(module: &M) -> usize {
    struct Count(usize);
    impl<B: Backend> ModuleVisitor<B> for Count {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            let tensor = param.val();
            if tensor.is_require_grad() {
                self.0 += tensor.shape().num_elements();
            }
        }
    }
    let mut count = Count(0);
    module.visit(&mut count);
    count.0
}
