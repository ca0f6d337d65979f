//! A backbone whose output is an embedding, classified by a separate head: the shape the
//! large-margin papers (L-Softmax, SphereFace, CosFace, ArcFace) train, where the head's class
//! weights are part of the loss. Without a head the backbone's outputs are the logits, so every
//! registered model goes through this one type (one monomorphised training loop per model, not two).

use burn::prelude::*;
use kiln_losses::margin::MarginHead;

use crate::VisionError;
use crate::{Complexity, ImageClassifier};

/// `backbone` maps images to `[N, D]`; `head` (when present) maps those to `[N, K]`.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_losses::margin::{ArcFaceConfig, MarginHead};
/// use kiln_vision::{EmbeddingClassifier, ImageClassifier, MnistCnnConfig};
///
/// let device = Default::default();
/// // The CNN ends in a 3-d embedding; ArcFace holds the 10 class directions.
/// let backbone = MnistCnnConfig::new().with_num_classes(3).with_width(4).with_hidden(8).init::<NdArray>(&device);
/// let head = MarginHead::ArcFace(ArcFaceConfig::new(3, 10).with_scale(16.0).init(&device));
/// let model = EmbeddingClassifier::new(backbone, Some(head));
/// let images = Tensor::<NdArray, 4>::zeros([2, 1, 28, 28], &device);
/// assert_eq!(model.logits(images.clone()).dims(), [2, 10]);
/// assert_eq!(model.embeddings(images).unwrap().dims(), [2, 3]);
/// ```
#[derive(Module, Debug)]
pub struct EmbeddingClassifier<B: Backend, M: Module<B>> {
    pub backbone: M,
    pub head: Option<MarginHead<B>>,
}

impl<B: Backend, M: Module<B>> EmbeddingClassifier<B, M> {
    pub fn new(backbone: M, head: Option<MarginHead<B>>) -> Self {
        Self { backbone, head }
    }
}

impl<B: Backend, M: Module<B> + ImageClassifier<B>> ImageClassifier<B> for EmbeddingClassifier<B, M> {
    fn logits(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let outputs = self.backbone.logits(images);
        match &self.head {
            Some(head) => head.scores(outputs),
            None => outputs,
        }
    }

    fn training_logits(&self, images: Tensor<B, 4>, targets: Tensor<B, 1, Int>) -> Tensor<B, 2> {
        match &self.head {
            Some(head) => head.forward(self.backbone.logits(images), targets),
            None => self.backbone.training_logits(images, targets),
        }
    }

    fn set_step(&mut self, step: usize) {
        if let Some(head) = &mut self.head {
            head.set_step(step);
        }
    }

    fn embeddings(&self, images: Tensor<B, 4>) -> Option<Tensor<B, 2>> {
        self.head.as_ref().map(|_| self.backbone.logits(images))
    }

    fn complexity(&self, input: [usize; 3]) -> Complexity {
        let backbone = self.backbone.complexity(input);
        match &self.head {
            // One dot product per (embedding dimension, class), as a linear layer.
            Some(head) => {
                let embedding = backbone.output.iter().product::<usize>();
                let classes = head.classes();
                Complexity {
                    multiply_adds: backbone.multiply_adds + (embedding * classes) as u64,
                    output: [classes, 1, 1],
                }
            }
            None => backbone,
        }
    }

    fn receptive_field(&self) -> Option<usize> {
        self.backbone.receptive_field()
    }

    fn check_input(&self, input: [usize; 3]) -> Result<(), VisionError> {
        self.backbone.check_input(input)
    }
}
