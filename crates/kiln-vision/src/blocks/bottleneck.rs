//! ResNet's bottleneck block (He et al. 2016, Fig. 5 right): 1×1 reduce, 3×3, 1×1 expand, with
//! the stride on the 3×3 as in torchvision's "ResNet v1.5" (same parameters as the paper's
//! stride-on-1×1, better accuracy). `groups` and `width` give ResNeXt-style variants.

use burn::prelude::*;

use crate::blocks::{ConvNormAct, ConvNormActConfig};
use crate::complexity::{ShapeTrace, Traceable};
use crate::Activation;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::BottleneckConfig;
/// let block = BottleneckConfig::new(256, 128, 512).with_stride(2).init::<NdArray>(&Default::default());
/// let y = block.forward(Tensor::zeros([1, 256, 14, 14], &Default::default()));
/// assert_eq!(y.dims(), [1, 512, 7, 7]);
/// ```
#[derive(Config, Debug)]
pub struct BottleneckConfig {
    pub in_channels: usize,
    /// Channels of the 3×3 convolution (the paper's "64-d" inside a 256-d block).
    pub width: usize,
    pub out_channels: usize,
    #[config(default = 1)]
    pub stride: usize,
    #[config(default = 1)]
    pub groups: usize,
    #[config(default = 1)]
    pub dilation: usize,
}

#[derive(Module, Debug)]
pub struct Bottleneck<B: Backend> {
    pub reduce: ConvNormAct<B>,
    pub conv: ConvNormAct<B>,
    pub expand: ConvNormAct<B>,
    pub shortcut: Option<ConvNormAct<B>>,
}

impl BottleneckConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> Bottleneck<B> {
        let (cin, width, cout) = (self.in_channels, self.width, self.out_channels);
        Bottleneck {
            reduce: ConvNormActConfig::new(cin, width, 1).init(device),
            conv: ConvNormActConfig::new(width, width, 3)
                .with_stride(self.stride)
                .with_groups(self.groups)
                .with_dilation(self.dilation)
                .init(device),
            expand: ConvNormActConfig::new(width, cout, 1).with_activation(Activation::Identity).init(device),
            shortcut: (self.stride != 1 || cin != cout).then(|| {
                ConvNormActConfig::new(cin, cout, 1)
                    .with_stride(self.stride)
                    .with_activation(Activation::Identity)
                    .init(device)
            }),
        }
    }
}

impl<B: Backend> Bottleneck<B> {
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let identity = match &self.shortcut {
            Some(projection) => projection.forward(x.clone()),
            None => x.clone(),
        };
        let y = self.expand.forward(self.conv.forward(self.reduce.forward(x)));
        burn::tensor::activation::relu(y + identity)
    }
}

impl<B: Backend> Traceable for Bottleneck<B> {
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        let shortcut = match &self.shortcut {
            Some(projection) => input.fork().then(projection),
            None => input.fork(),
        };
        input.then(&self.reduce).then(&self.conv).then(&self.expand).add(shortcut)
    }
}
