use burn::prelude::*;

use crate::Complexity;
use crate::VisionError;

/// A network that maps images `[N, C, H, W]` to class logits `[N, K]`.
///
/// The classification task in kiln-train needs nothing more from a model, so any backbone
/// that implements this trains from an experiment config.
pub trait ImageClassifier<B: Backend> {
    fn logits(&self, images: Tensor<B, 4>) -> Tensor<B, 2>;

    /// The logits the training loss sees. Heads with a margin (ArcFace, CosFace, …) make the
    /// target's logit harder to win and so need the targets; plain classifiers ignore them.
    fn training_logits(&self, images: Tensor<B, 4>, targets: Tensor<B, 1, Int>) -> Tensor<B, 2> {
        let _ = targets;
        self.logits(images)
    }

    /// Tells step-dependent parts of the model which optimizer step comes next (0-based): a margin
    /// head's annealed λ. Plain classifiers have none.
    fn set_step(&mut self, step: usize) {
        let _ = step;
    }

    /// The embedding `[N, D]` a separate head classifies, for models that have one (angular
    /// statistics of margin losses); `None` for plain classifiers.
    fn embeddings(&self, images: Tensor<B, 4>) -> Option<Tensor<B, 2>> {
        let _ = images;
        None
    }

    /// Side in input pixels of the region one unit of the last feature map sees, for models
    /// whose geometry is known to the receptive-field calculator ([`crate::receptive_field::receptive_field`]).
    fn receptive_field(&self) -> Option<usize> {
        None
    }

    /// Multiply-adds and output shape of one forward pass on an input of `[C, H, W]`.
    fn complexity(&self, input: [usize; 3]) -> Complexity;

    /// Says why images of `[C, H, W]` cannot go through the network, for models built for one
    /// size; the default accepts any input.
    fn check_input(&self, input: [usize; 3]) -> Result<(), VisionError> {
        let _ = input;
        Ok(())
    }
}
