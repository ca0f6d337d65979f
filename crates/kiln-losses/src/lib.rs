//! Losses, generic over any Burn `Backend`, selectable by name from experiment configs.
//!
//! Each loss is a `FooConfig` (paper defaults) with `init()` and a `forward`; per-element losses
//! are reduced by [`Reduction`].

pub mod centernet_focal;
pub mod cross_entropy;
pub mod focal;
pub mod gaussian_kl;
pub mod gumbel;
pub mod margin;
pub mod pixel;
pub mod reduction;
pub mod smooth_l1;
pub mod soft_overlap;
pub mod varifocal;

pub use centernet_focal::{CenterNetFocalLoss, CenterNetFocalLossConfig};
pub use cross_entropy::{CrossEntropy, CrossEntropyConfig};
pub use focal::{SigmoidFocalLoss, SigmoidFocalLossConfig};
pub use gaussian_kl::gaussian_kl;
pub use gumbel::gumbel_softmax;
pub use pixel::{pixel_cross_entropy, pixel_soft_dice};
pub use reduction::Reduction;
pub use smooth_l1::{SmoothL1Loss, SmoothL1LossConfig};
pub use soft_overlap::{soft_dice_loss, soft_iou_loss};
pub use varifocal::{VarifocalLoss, VarifocalLossConfig};
