use burn::prelude::*;
use kiln_losses::Reduction;

use super::{paired_overlap, Overlap};

/// 1 − IoU/GIoU/DIoU/CIoU between predicted and target `xyxy` boxes.
#[derive(Config, Debug)]
pub struct IouLossConfig {
    #[config(default = "Overlap::Giou")]
    pub kind: Overlap,
    #[config(default = "Reduction::Mean")]
    pub reduction: Reduction,
}

/// See [`IouLossConfig`].
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::boxes::{IouLossConfig, Overlap};
/// let d = Default::default();
/// let loss = IouLossConfig::new().with_kind(Overlap::Giou).init();
/// let pred = Tensor::<NdArray, 2>::from_floats([[0.0, 0.0, 1.0, 1.0]], &d);
/// let target = Tensor::<NdArray, 2>::from_floats([[2.0, 0.0, 3.0, 1.0]], &d);
/// // Disjoint unit squares two apart: GIoU = 0 − (3 − 2)/3, so the loss is 4/3.
/// let value: f32 = loss.forward(pred, target).into_scalar();
/// assert!((value - 4.0 / 3.0).abs() < 1e-5);
/// ```
#[derive(Module, Debug, Clone)]
pub struct IouLoss {
    #[module(skip)]
    kind: Overlap,
    #[module(skip)]
    reduction: Reduction,
}

impl IouLossConfig {
    pub fn init(&self) -> IouLoss {
        IouLoss { kind: self.kind, reduction: self.reduction }
    }
}

impl IouLoss {
    /// `pred`, `target`: `[N, 4]`. Returns `[N]` for `Reduction::None`, else `[1]`.
    pub fn forward<B: Backend>(&self, pred: Tensor<B, 2>, target: Tensor<B, 2>) -> Tensor<B, 1> {
        self.reduction.apply(paired_overlap(pred, target, self.kind).neg() + 1.0)
    }
}
