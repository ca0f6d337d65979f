//! Model families and their named variants, declared beside each family's config as timm's
//! `@register_model` declares them beside each model: `resnet18` is `ResNetConfig::new(18)`,
//! stated in `resnet.rs`, so a trainer's registry only lists the families.

use burn::config::Config;
use burn::module::{AutodiffModule, ModuleDisplay};
use burn::tensor::backend::AutodiffBackend;

use crate::{ImageClassifier, VisionError};

/// One named configuration of a family, as a user picks it by name (`[model] name = "resnet18"`).
#[derive(Debug)]
pub struct Variant<C> {
    pub name: &'static str,
    /// One line for listings: the paper, and the parameter count where it states one.
    pub summary: &'static str,
    /// `[C, H, W]` the variant is meant for.
    pub default_input: [usize; 3],
    /// The variant's config with the paper's values; the user's keys go on top of it.
    pub config: fn() -> C,
}

impl<C> Variant<C> {
    pub const fn new(name: &'static str, summary: &'static str, default_input: [usize; 3], config: fn() -> C) -> Self {
        Self { name, summary, default_input, config }
    }
}

/// `[3, 224, 224]`, the ImageNet input most families are defined at.
pub const IMAGENET_INPUT: [usize; 3] = [3, 224, 224];
/// `[1, 28, 28]`, an MNIST digit.
pub const DIGIT_INPUT: [usize; 3] = [1, 28, 28];

/// A config type with its named variants and the checks serde cannot express.
///
/// ```
/// use kiln_vision::backbones::ResNetConfig;
/// use kiln_vision::family::ModelFamily;
/// let resnet50 = ResNetConfig::variant("resnet50").unwrap();
/// assert_eq!(resnet50.depth, 50);
/// assert!(ResNetConfig::variant("resnet51").is_none());
/// assert!(ResNetConfig { depth: 51, ..resnet50 }.check().is_err());
/// ```
pub trait ModelFamily: Config + 'static {
    const VARIANTS: &'static [Variant<Self>];

    /// Set when the network is built for one input size, given by its `image_size` key (ViT's
    /// position embeddings); the others take any size their layers allow.
    const FIXED_SIZE: bool = false;

    /// Says why a config (variant defaults with a user's keys on top) cannot be built.
    fn check(&self) -> Result<(), VisionError> {
        Ok(())
    }

    /// The config of variant `name`, when this family has it.
    fn variant(name: &str) -> Option<Self> {
        Self::VARIANTS.iter().find(|v| v.name == name).map(|v| (v.config)())
    }
}

/// A family whose networks classify images.
pub trait ClassifierFamily: ModelFamily {
    /// Builds the network on `device` and hands it to `job`, which sees it as its own concrete
    /// type (so it is monomorphised once per family, with no dynamic dispatch in the step).
    fn init_with<B: AutodiffBackend, J: OnClassifier<B>>(&self, device: &B::Device, job: J) -> J::Output;
}

/// Work to do with a classifier whose type only its family knows.
pub trait OnClassifier<B: AutodiffBackend> {
    type Output;
    fn run<M>(self, model: M) -> Self::Output
    where
        M: AutodiffModule<B> + ImageClassifier<B> + ModuleDisplay + 'static,
        M::InnerModule: ImageClassifier<B::InnerBackend> + ModuleDisplay;
}
