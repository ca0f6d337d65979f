//! Detector families: like [`crate::family::ClassifierFamily`], for networks that find objects.

use burn::module::{AutodiffModule, ModuleDisplay};
use burn::tensor::backend::AutodiffBackend;

use super::ObjectDetector;
use crate::family::ModelFamily;

/// A family whose networks detect objects.
pub trait DetectorFamily: ModelFamily {
    /// Builds the network on `device` and hands it to `job` as its own concrete type.
    fn init_with<B: AutodiffBackend, J: OnDetector<B>>(&self, device: &B::Device, job: J) -> J::Output;
}

/// Work to do with a detector whose type only its family knows.
pub trait OnDetector<B: AutodiffBackend> {
    type Output;
    fn run<M>(self, model: M) -> Self::Output
    where
        M: AutodiffModule<B> + ObjectDetector<B> + ModuleDisplay + 'static,
        M::InnerModule: ObjectDetector<B::InnerBackend> + ModuleDisplay;
}
