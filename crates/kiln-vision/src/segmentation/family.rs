//! Segmentation families: like [`crate::family::ClassifierFamily`], for networks that score every
//! pixel.

use burn::module::{AutodiffModule, ModuleDisplay};
use burn::tensor::backend::AutodiffBackend;

use super::SemanticSegmenter;
use crate::family::ModelFamily;

/// A family whose networks segment images.
pub trait SegmenterFamily: ModelFamily {
    /// Builds the network on `device` and hands it to `job` as its own concrete type.
    fn init_with<B: AutodiffBackend, J: OnSegmenter<B>>(&self, device: &B::Device, job: J) -> J::Output;
}

/// Work to do with a segmentation network whose type only its family knows.
pub trait OnSegmenter<B: AutodiffBackend> {
    type Output;
    fn run<M>(self, model: M) -> Self::Output
    where
        M: AutodiffModule<B> + SemanticSegmenter<B> + ModuleDisplay + 'static,
        M::InnerModule: SemanticSegmenter<B::InnerBackend> + ModuleDisplay;
}
