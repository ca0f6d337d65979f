use burn::prelude::*;

use crate::Complexity;

/// A network that maps images `[N, C, H, W]` to class logits `[N, K]`.
///
/// The classification task in kiln-train needs nothing more from a model, so any backbone
/// that implements this trains from an experiment config.
pub trait ImageClassifier<B: Backend> {
    fn logits(&self, images: Tensor<B, 4>) -> Tensor<B, 2>;

    /// Multiply-adds and output shape of one forward pass on an input of `[C, H, W]`.
    fn complexity(&self, input: [usize; 3]) -> Complexity;

    /// Says why images of `[C, H, W]` cannot go through the network, for models built for one
    /// size; the default accepts any input.
    fn check_input(&self, input: [usize; 3]) -> Result<(), String> {
        let _ = input;
        Ok(())
    }
}
