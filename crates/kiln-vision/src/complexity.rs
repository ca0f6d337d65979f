//! Multiply-add counting by tracing shapes through a network's layers.
//!
//! Counts follow the convention of the MobileNet and ShuffleNet papers: one multiply-add per
//! weight use in convolutions and linear layers; pooling, activations and biases are free.

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
    pub fn conv2d(mut self, out_channels: usize, kernel: usize, stride: usize, padding: usize, groups: usize) -> Self {
        let [c, h, w] = self.shape;
        let out_h = (h + 2 * padding).saturating_sub(kernel) / stride + 1;
        let out_w = (w + 2 * padding).saturating_sub(kernel) / stride + 1;
        let per_output = (c / groups * kernel * kernel) as u64;
        self.multiply_adds += per_output * (out_channels * out_h * out_w) as u64;
        self.shape = [out_channels, out_h, out_w];
        self
    }

    /// A square pooling window without padding.
    pub fn pool2d(mut self, kernel: usize, stride: usize) -> Self {
        let [c, h, w] = self.shape;
        self.shape = [c, (h - kernel) / stride + 1, (w - kernel) / stride + 1];
        self
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

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::{Backend, Tensor};

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
