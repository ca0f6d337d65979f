//! EfficientNet's MBConv (Tan & Le 2019, Sec. 4; Sandler et al. 2018 with squeeze-and-excitation
//! from Hu et al. 2018): 1×1 expansion, k×k depthwise convolution, SE gating, linear 1×1
//! projection, and a shortcut regularised by stochastic depth. Activations are SiLU ("swish").

use burn::prelude::*;

use crate::blocks::{
    ConvNormAct, ConvNormActConfig, SqueezeExcitation, SqueezeExcitationConfig, StochasticDepth, StochasticDepthConfig,
};
use crate::complexity::{ShapeTrace, Traceable};
use crate::scaling::make_divisible;
use crate::Activation;

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::MbConvConfig;
/// let block = MbConvConfig::new(16, 24, 6, 3).with_stride(2).init::<NdArray>(&Default::default());
/// let y = block.forward(Tensor::zeros([1, 16, 32, 32], &Default::default()));
/// assert_eq!(y.dims(), [1, 24, 16, 16]);
/// ```
#[derive(Config, Debug)]
pub struct MbConvConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    pub expand_ratio: usize,
    pub kernel_size: usize,
    #[config(default = 1)]
    pub stride: usize,
    /// SE bottleneck width as a fraction of the block's *input* channels (0.25 in EfficientNet).
    #[config(default = 0.25)]
    pub se_ratio: f64,
    /// Stochastic-depth drop probability of this block's residual branch.
    #[config(default = 0.0)]
    pub drop_prob: f64,
    #[config(default = "Activation::Silu")]
    pub activation: Activation,
    #[config(default = 1e-3)]
    pub norm_epsilon: f64,
}

#[derive(Module, Debug)]
pub struct MbConv<B: Backend> {
    pub expand: Option<ConvNormAct<B>>,
    pub depthwise: ConvNormAct<B>,
    pub squeeze_excitation: SqueezeExcitation<B>,
    pub project: ConvNormAct<B>,
    pub stochastic_depth: StochasticDepth,
    #[module(skip)]
    shortcut: bool,
}

impl MbConvConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> MbConv<B> {
        let expanded = make_divisible((self.in_channels * self.expand_ratio) as f64, 8);
        let conv = |cin, cout, k| ConvNormActConfig::new(cin, cout, k).with_norm_epsilon(self.norm_epsilon);
        MbConv {
            expand: (self.expand_ratio != 1)
                .then(|| conv(self.in_channels, expanded, 1).with_activation(self.activation).init(device)),
            depthwise: conv(expanded, expanded, self.kernel_size)
                .with_stride(self.stride)
                .with_groups(expanded)
                .with_activation(self.activation)
                .init(device),
            squeeze_excitation: SqueezeExcitationConfig::new(
                expanded,
                ((self.in_channels as f64 * self.se_ratio) as usize).max(1),
            )
            .with_activation(self.activation)
            .init(device),
            project: conv(expanded, self.out_channels, 1).with_activation(Activation::Identity).init(device),
            stochastic_depth: StochasticDepthConfig::new(self.drop_prob).init(),
            shortcut: self.stride == 1 && self.in_channels == self.out_channels,
        }
    }
}

impl<B: Backend> MbConv<B> {
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let expanded = match &self.expand {
            Some(expand) => expand.forward(x.clone()),
            None => x.clone(),
        };
        let y = self.squeeze_excitation.forward(self.depthwise.forward(expanded));
        let y = self.project.forward(y);
        if self.shortcut {
            self.stochastic_depth.forward(y) + x
        } else {
            y
        }
    }
}

impl<B: Backend> Traceable for MbConv<B> {
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        let input = match &self.expand {
            Some(expand) => input.then(expand),
            None => input,
        };
        input.then(&self.depthwise).then(&self.squeeze_excitation).then(&self.project)
    }
}
