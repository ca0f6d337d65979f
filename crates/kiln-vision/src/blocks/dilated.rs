//! A stack of dilated (atrous) 3×3 convolutions (Yu & Koltun 2016, "Multi-Scale Context
//! Aggregation by Dilated Convolutions", Sec. 2–3): with dilations 1, 2, 4, … the receptive field
//! grows exponentially, (2^(i+2) − 1)² after layer i, while the resolution and the parameter count
//! per layer stay those of a plain 3×3. No residual connection, as in the paper's context module.

use burn::nn::PaddingConfig2d;
use burn::prelude::*;

use crate::blocks::{ConvNormAct, ConvNormActConfig};
use crate::complexity::{ShapeTrace, Traceable};
use crate::receptive_field::RfLayer;
use crate::Activation;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::DilatedStackConfig;
/// use kiln_vision::receptive_field::receptive_field;
/// let stack = DilatedStackConfig::new(3, 16).init::<NdArray>(&Default::default());
/// let y = stack.forward(Tensor::zeros([1, 3, 21, 17], &Default::default()));
/// assert_eq!(y.dims(), [1, 16, 21, 17]);
/// let sizes: Vec<_> = receptive_field(&stack.receptive_field_layers()).iter().map(|r| r.size).collect();
/// assert_eq!(sizes, vec![3, 7, 15]);
/// ```
#[derive(Config, Debug)]
pub struct DilatedStackConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    /// One 3×3 layer per rate; doubling rates give the paper's exponential receptive field.
    #[config(default = "vec![1, 2, 4]")]
    pub dilations: Vec<usize>,
    #[config(default = 3)]
    pub kernel_size: usize,
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
}

#[derive(Module, Debug)]
pub struct DilatedStack<B: Backend> {
    pub layers: Vec<ConvNormAct<B>>,
}

impl DilatedStackConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> DilatedStack<B> {
        assert!(self.kernel_size % 2 == 1, "an odd kernel keeps the resolution with symmetric padding");
        let layers = self
            .dilations
            .iter()
            .enumerate()
            .map(|(i, &d)| {
                let in_channels = if i == 0 { self.in_channels } else { self.out_channels };
                // ConvNormAct pads by d·(k−1)/2, which keeps H×W at stride 1.
                ConvNormActConfig::new(in_channels, self.out_channels, self.kernel_size)
                    .with_dilation(d)
                    .with_activation(self.activation)
                    .init(device)
            })
            .collect();
        DilatedStack { layers }
    }
}

impl<B: Backend> DilatedStack<B> {
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        self.layers.iter().fold(x, |x, layer| layer.forward(x))
    }

    /// The layers' geometry, read from the convolutions themselves, for
    /// [`crate::receptive_field::receptive_field`].
    pub fn receptive_field_layers(&self) -> Vec<RfLayer> {
        self.layers
            .iter()
            .map(|layer| {
                let conv = &layer.conv;
                let padding = match conv.padding {
                    PaddingConfig2d::Explicit(top, _, _, _) => top,
                    PaddingConfig2d::Valid => 0,
                    PaddingConfig2d::Same => conv.dilation[0] * (conv.kernel_size[0] - 1) / 2,
                };
                RfLayer { kernel: conv.kernel_size[0], stride: conv.stride[0], dilation: conv.dilation[0], padding }
            })
            .collect()
    }
}

impl<B: Backend> Traceable for DilatedStack<B> {
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        self.layers.trace(input)
    }
}
