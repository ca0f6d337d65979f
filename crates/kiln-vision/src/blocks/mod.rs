//! Reusable blocks, one concept per file, each a `Config` + `Module` pair generic over `B: Backend`.

pub mod basic_block;
pub mod batch_norm;
pub mod bottleneck;
pub mod channel_shuffle;
pub mod classifier_head;
pub mod conv_norm_act;
pub mod depthwise_separable;
pub mod inception;
pub mod inverted_residual;
pub mod mbconv;
pub mod patch_embedding;
pub mod shuffle_unit;
pub mod squeeze_excitation;
pub mod stochastic_depth;

pub use basic_block::{BasicBlock, BasicBlockConfig};
pub use batch_norm::batch_norm_2d;
pub use bottleneck::{Bottleneck, BottleneckConfig};
pub use channel_shuffle::channel_shuffle;
pub use classifier_head::{ClassifierHead, ClassifierHeadConfig};
pub use conv_norm_act::{ConvNormAct, ConvNormActConfig};
pub use depthwise_separable::{DepthwiseSeparable, DepthwiseSeparableConfig};
pub use inception::{Inception, InceptionConfig};
pub use inverted_residual::{InvertedResidual, InvertedResidualConfig};
pub use mbconv::{MbConv, MbConvConfig};
pub use patch_embedding::{PatchEmbedding, PatchEmbeddingConfig};
pub use shuffle_unit::{ShuffleUnit, ShuffleUnitConfig};
pub use squeeze_excitation::{SqueezeExcitation, SqueezeExcitationConfig};
pub use stochastic_depth::{StochasticDepth, StochasticDepthConfig};

// Dilated, pyramid and detection blocks.
pub mod aspp;
pub mod cem;
pub mod deformable;
pub mod dilated;
pub mod fpn;
pub mod gathered_deform_conv;
pub mod ps_roi_pool;
pub mod sam;
pub mod spp;
pub mod trident;
pub mod upsample;

pub use aspp::{Aspp, AsppConfig};
pub use cem::{ContextEnhancement, ContextEnhancementConfig};
pub use deformable::{DeformableConv, DeformableConvConfig};
pub use dilated::{DilatedStack, DilatedStackConfig};
pub use fpn::{Fpn, FpnConfig};
pub use gathered_deform_conv::{gathered_deform_conv2d, DeformGeometry};
pub use ps_roi_pool::{PsRoiPool, PsRoiPoolConfig, ScoreMapOrder};
pub use sam::{SpatialAttention, SpatialAttentionConfig};
pub use spp::{SpatialPyramidPooling, SpatialPyramidPoolingConfig};
pub use trident::{TridentBlock, TridentBlockConfig};
pub use upsample::upsample_nearest;
