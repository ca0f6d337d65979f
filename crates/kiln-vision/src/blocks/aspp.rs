//! Atrous Spatial Pyramid Pooling as in DeepLabv3 (Chen, Papandreou, Schroff, Adam 2017,
//! "Rethinking Atrous Convolution for Semantic Image Segmentation", Sec. 3.3): parallel branches
//! see the same features at several scales (a 1×1 conv, 3×3 convs at atrous rates 6, 12, 18 for
//! output stride 16, and image-level features from global average pooling) and a 1×1 conv fuses
//! their concatenation. Each rate has its own weights; all convs are followed by batch norm and ReLU.

use burn::nn::{Dropout, DropoutConfig};
use burn::prelude::*;

use crate::blocks::{ConvNormAct, ConvNormActConfig};
use crate::complexity::{ShapeTrace, Traceable};

/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::blocks::AsppConfig;
/// let aspp = AsppConfig::new(32).with_out_channels(16).init::<NdArray>(&Default::default());
/// let y = aspp.forward(Tensor::zeros([2, 32, 33, 20], &Default::default()));
/// assert_eq!(y.dims(), [2, 16, 33, 20]);
/// ```
#[derive(Config, Debug)]
pub struct AsppConfig {
    pub in_channels: usize,
    /// Channels of every branch and of the projection (256 in the paper).
    #[config(default = 256)]
    pub out_channels: usize,
    /// Atrous rates of the 3×3 branches: (6, 12, 18) at output stride 16; the paper doubles
    /// them at output stride 8.
    #[config(default = "vec![6, 12, 18]")]
    pub rates: Vec<usize>,
    /// Dropout after the projection (torchvision's DeepLabv3 uses 0.5).
    #[config(default = 0.0)]
    pub dropout: f64,
}

#[derive(Module, Debug)]
pub struct Aspp<B: Backend> {
    /// The 1×1 branch.
    pub pointwise: ConvNormAct<B>,
    /// One 3×3 branch per rate, padded by the rate so that all branches keep H×W.
    pub atrous: Vec<ConvNormAct<B>>,
    /// The image-level branch: 1×1 conv-BN-ReLU on globally average-pooled features.
    pub image_pool: ConvNormAct<B>,
    /// 1×1 conv-BN-ReLU fusing the concatenated branches.
    pub project: ConvNormAct<B>,
    pub dropout: Dropout,
}

impl AsppConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> Aspp<B> {
        let (c_in, c_out) = (self.in_channels, self.out_channels);
        let branches = 2 + self.rates.len();
        Aspp {
            pointwise: ConvNormActConfig::new(c_in, c_out, 1).init(device),
            atrous: self
                .rates
                .iter()
                .map(|&r| ConvNormActConfig::new(c_in, c_out, 3).with_dilation(r).init(device))
                .collect(),
            image_pool: ConvNormActConfig::new(c_in, c_out, 1).init(device),
            project: ConvNormActConfig::new(branches * c_out, c_out, 1).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

impl<B: Backend> Aspp<B> {
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [n, _, h, w] = x.dims();
        let mut branches = vec![self.pointwise.forward(x.clone())];
        branches.extend(self.atrous.iter().map(|branch| branch.forward(x.clone())));
        let pooled = self.image_pool.forward(x.mean_dims(&[2, 3]));
        // The paper upsamples bilinearly; from a 1×1 map that is a broadcast.
        let [_, c, _, _] = pooled.dims();
        branches.push(pooled.expand([n, c, h, w]));
        self.dropout.forward(self.project.forward(Tensor::cat(branches, 1)))
    }
}

impl<B: Backend> Traceable for Aspp<B> {
    fn trace(&self, input: ShapeTrace) -> ShapeTrace {
        let [_, h, w] = input.shape;
        let mut branches = vec![self.pointwise.trace(input.fork())];
        branches.extend(self.atrous.iter().map(|branch| branch.trace(input.fork())));
        let pooled = self.image_pool.trace(input.fork().global_pool());
        branches.push(pooled.reshape([pooled.shape[0], h, w]));
        self.project.trace(input.concat(branches))
    }
}
