//! MobileNetV2's inverted residual with linear bottleneck (Sandler et al. 2018, Table 1 and
//! Fig. 3b): expand a thin input t-fold with a 1×1 convolution, filter it depthwise, project it
//! back with a *linear* 1×1 (a ReLU there would destroy information in the low-dimensional
//! manifold, Sec. 3.2); the shortcut joins the thin ends.

use burn::prelude::*;

use crate::blocks::{ConvNormAct, ConvNormActConfig};
use crate::complexity::{ShapeTrace, Traceable};
use crate::Activation;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::InvertedResidualConfig;
/// let block = InvertedResidualConfig::new(24, 24, 6).init::<NdArray>(&Default::default());
/// assert!(block.uses_shortcut());
/// let y = block.forward(Tensor::zeros([1, 24, 56, 56], &Default::default()));
/// assert_eq!(y.dims(), [1, 24, 56, 56]);
/// ```
#[derive(Config, Debug)]
pub struct InvertedResidualConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    /// The expansion factor t.
    pub expand_ratio: usize,
    #[config(default = 1)]
    pub stride: usize,
    #[config(default = "Activation::Relu6")]
    pub activation: Activation,
}

#[derive(Module, Debug)]
pub struct InvertedResidual<B: Backend> {
    /// Absent when t = 1 (the first block of MobileNetV2).
    pub expand: Option<ConvNormAct<B>>,
    pub depthwise: ConvNormAct<B>,
    pub project: ConvNormAct<B>,
    #[module(skip)]
    shortcut: bool,
}

impl InvertedResidualConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> InvertedResidual<B> {
        let hidden = self.in_channels * self.expand_ratio;
        InvertedResidual {
            expand: (self.expand_ratio != 1).then(|| {
                ConvNormActConfig::new(self.in_channels, hidden, 1).with_activation(self.activation).init(device)
            }),
            depthwise: ConvNormActConfig::new(hidden, hidden, 3)
                .with_stride(self.stride)
                .with_groups(hidden)
                .with_activation(self.activation)
                .init(device),
            project: ConvNormActConfig::new(hidden, self.out_channels, 1)
                .with_activation(Activation::Identity)
                .init(device),
            shortcut: self.stride == 1 && self.in_channels == self.out_channels,
        }
    }
}

impl<B: Backend> InvertedResidual<B> {
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let expanded = match &self.expand {
            Some(expand) => expand.forward(x.clone()),
            None => x.clone(),
        };
        let y = self.project.forward(self.depthwise.forward(expanded));
        if self.shortcut {
            y + x
        } else {
            y
        }
    }

    /// Whether input and output are joined by the residual connection (stride 1, equal widths).
    pub fn uses_shortcut(&self) -> bool {
        self.shortcut
    }
}

impl<B: Backend> Traceable for InvertedResidual<B> {
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        let input = match &self.expand {
            Some(expand) => input.then(expand),
            None => input,
        };
        input.then(&self.depthwise).then(&self.project)
    }
}
