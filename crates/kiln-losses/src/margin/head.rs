//! The classifier on top of an embedding, chosen by name: a plain linear softmax layer (the
//! baseline the margin papers compare against) or one of the large-margin heads.

use burn::nn::Linear;
use burn::prelude::*;

use super::{ArcFace, CosFace, LSoftmax};

/// Maps embeddings `[N, D]` to class logits `[N, K]`.
///
/// Training logits carry the margin and so need the targets; evaluation scores do not.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_losses::margin::{CosFaceConfig, MarginHead};
///
/// let device = Default::default();
/// let head = MarginHead::CosFace(CosFaceConfig::new(3, 10).with_scale(16.0).init::<NdArray>(&device));
/// let embeddings = Tensor::<NdArray, 2>::ones([4, 3], &device);
/// let targets = Tensor::<NdArray, 1, Int>::from_ints([0, 1, 2, 3], &device);
/// assert_eq!(head.forward(embeddings.clone(), targets).dims(), [4, 10]);
/// assert_eq!(head.scores(embeddings).dims(), [4, 10]);
/// ```
#[derive(Module, Debug)]
pub enum MarginHead<B: Backend> {
    /// W·x + b: plain softmax cross-entropy.
    Softmax(Linear<B>),
    ArcFace(ArcFace<B>),
    CosFace(CosFace<B>),
    /// L-Softmax, and SphereFace when its weights are normalised.
    LSoftmax(LSoftmax<B>),
}

impl<B: Backend> MarginHead<B> {
    /// Logits for the training loss, with the margin applied to each target class.
    pub fn forward(&self, embeddings: Tensor<B, 2>, targets: Tensor<B, 1, Int>) -> Tensor<B, 2> {
        match self {
            Self::Softmax(linear) => linear.forward(embeddings),
            Self::ArcFace(head) => head.forward(embeddings, targets),
            Self::CosFace(head) => head.forward(embeddings, targets),
            Self::LSoftmax(head) => head.forward(embeddings, targets),
        }
    }

    /// Margin-free logits for evaluation: the same scale as training, no target needed.
    pub fn scores(&self, embeddings: Tensor<B, 2>) -> Tensor<B, 2> {
        match self {
            Self::Softmax(linear) => linear.forward(embeddings),
            Self::ArcFace(head) => head.cosines(embeddings) * head.scale(),
            Self::CosFace(head) => head.cosines(embeddings) * head.scale(),
            Self::LSoftmax(head) => head.logits(embeddings),
        }
    }

    /// Tells a head with a schedule (L-Softmax's and SphereFace's annealed λ) which optimizer step
    /// comes next; the others have none.
    pub fn set_step(&mut self, iteration: usize) {
        if let Self::LSoftmax(head) = self {
            head.set_step(iteration);
        }
    }

    /// Number of classes `K` (every head stores its weights `[D, K]`).
    pub fn classes(&self) -> usize {
        match self {
            Self::Softmax(linear) => linear.weight.dims()[1],
            Self::ArcFace(head) => head.weight.dims()[1],
            Self::CosFace(head) => head.weight.dims()[1],
            Self::LSoftmax(head) => head.weight.dims()[1],
        }
    }
}
