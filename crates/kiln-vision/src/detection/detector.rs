//! What a trainable detector offers the detection task: its training losses against each image's
//! ground-truth boxes (target assignment happens inside, per detector), and its detections.

use burn::prelude::*;

use super::ScoredBox;
use crate::VisionError;

/// A ground-truth object: `[x1, y1, x2, y2]` in input pixels and its class index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LabelledBox {
    pub bbox: [f32; 4],
    pub class: usize,
}

/// A network that finds objects in images `[N, C, H, W]`.
///
/// Like an mmdetection head, a detector carries its own loss settings (CenterNet's size weight,
/// FCOS's box loss) in its config: the loss functions live in `kiln-losses` and
/// [`crate::boxes`], the detector only says which targets they compare.
pub trait ObjectDetector<B: Backend> {
    /// The named terms of the training loss of `images` against each image's `objects`; the
    /// first is `("loss", total)`, the others are its weighted parts, for the progress display.
    fn losses(&self, images: Tensor<B, 4>, objects: &[Vec<LabelledBox>]) -> Vec<(&'static str, Tensor<B, 1>)>;

    /// Each image's detections before any suppression, best first, at most `top` per image.
    fn detect(&self, images: Tensor<B, 4>, top: usize) -> Vec<Vec<ScoredBox>>;

    /// Object classes (no background class).
    fn classes(&self) -> usize;

    /// Says why images of `[C, H, W]` cannot go through the network.
    fn check_input(&self, input: [usize; 3]) -> Result<(), VisionError>;
}
