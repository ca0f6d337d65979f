//! Receptive-field arithmetic (Araujo, Norris, Sim 2019, "Computing receptive fields of
//! convolutional neural networks", Eqs. 1–2, with dilation): for each layer, the size of the
//! input region one output unit sees, the jump (input pixels between neighbouring units) and the
//! centre of the first unit.

/// One convolution or pooling layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RfLayer {
    pub kernel: usize,
    pub stride: usize,
    pub dilation: usize,
    pub padding: usize,
}

impl RfLayer {
    pub fn conv(kernel: usize, stride: usize, padding: usize) -> Self {
        Self { kernel, stride, dilation: 1, padding }
    }

    pub fn dilated(kernel: usize, dilation: usize, padding: usize) -> Self {
        Self { kernel, stride: 1, dilation, padding }
    }
}

/// Receptive field after a layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RfStats {
    /// Side of the input region seen by one unit.
    pub size: usize,
    /// Input pixels between neighbouring units.
    pub jump: usize,
    /// Input coordinate of the first unit's centre.
    pub start: f64,
}

/// Receptive field after each of `layers`, applied to the input in order.
///
/// ```
/// use kiln_vision::receptive_field::{receptive_field, RfLayer};
/// // Two 3×3 convolutions see 5×5; a third, dilated by 2, adds 4 more.
/// let rf = receptive_field(&[RfLayer::conv(3, 1, 1), RfLayer::conv(3, 1, 1), RfLayer::dilated(3, 2, 2)]);
/// assert_eq!(rf.iter().map(|r| r.size).collect::<Vec<_>>(), vec![3, 5, 9]);
/// ```
pub fn receptive_field(layers: &[RfLayer]) -> Vec<RfStats> {
    let mut current = RfStats { size: 1, jump: 1, start: 0.5 };
    layers
        .iter()
        .map(|l| {
            let effective = l.dilation * (l.kernel - 1) + 1;
            current = RfStats {
                size: current.size + (effective - 1) * current.jump,
                jump: current.jump * l.stride,
                start: current.start + ((effective - 1) as f64 / 2.0 - l.padding as f64) * current.jump as f64,
            };
            current
        })
        .collect()
}
