//! A classifier made of a dilated context stack (Yu & Koltun 2016): 3×3 conv-BN-ReLU layers at
//! full resolution with the given dilations, global average pooling, and a linear layer. With
//! dilations `[1, 1, 1, 1]` it is the plain stack with the same parameters; only the receptive
//! field differs (9 pixels plain, 31 with `[1, 2, 4, 8]`), which is the comparison it exists for.

use burn::prelude::*;

use crate::blocks::{ClassifierHead, ClassifierHeadConfig, DilatedStack, DilatedStackConfig};
use crate::family::{ClassifierFamily, ModelFamily, OnClassifier, Variant, DIGIT_INPUT};
use crate::receptive_field::receptive_field;
use crate::VisionError;
use crate::{Complexity, ImageClassifier, ShapeTrace};
use burn::tensor::backend::AutodiffBackend;

/// ```
/// use burn::backend::NdArray;
/// use kiln_vision::{DilatedCnnConfig, ImageClassifier};
/// let device = Default::default();
/// let dilated = DilatedCnnConfig::new().init::<NdArray>(&device);
/// let plain = DilatedCnnConfig::new().with_dilations(vec![1, 1, 1, 1]).init::<NdArray>(&device);
/// // Each 3×3 layer adds 2·dilation pixels: 1 + 2·(1+2+4+8) = 31 and 1 + 2·4 = 9.
/// assert_eq!((dilated.receptive_field(), plain.receptive_field()), (Some(31), Some(9)));
/// ```
#[derive(Config, Debug)]
pub struct DilatedCnnConfig {
    #[config(default = 10)]
    pub num_classes: usize,
    #[config(default = 1)]
    pub in_channels: usize,
    #[config(default = 32)]
    pub width: usize,
    /// One 3×3 layer per rate; the paper's context module doubles them.
    #[config(default = "vec![1, 2, 4, 8]")]
    pub dilations: Vec<usize>,
    #[config(default = 0.0)]
    pub dropout: f64,
}

#[derive(Module, Debug)]
pub struct DilatedCnn<B: Backend> {
    stack: DilatedStack<B>,
    head: ClassifierHead<B>,
}

impl DilatedCnnConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> DilatedCnn<B> {
        DilatedCnn {
            stack: DilatedStackConfig::new(self.in_channels, self.width)
                .with_dilations(self.dilations.clone())
                .init(device),
            head: ClassifierHeadConfig::new(self.width, self.num_classes).with_dropout(self.dropout).init(device),
        }
    }
}

impl<B: Backend> DilatedCnn<B> {
    pub fn forward(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        self.head.forward(self.stack.forward(images))
    }
}

impl<B: Backend> ImageClassifier<B> for DilatedCnn<B> {
    fn logits(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        self.forward(images)
    }

    fn complexity(&self, input: [usize; 3]) -> Complexity {
        ShapeTrace::new(input).then(&self.stack).then(&self.head).finish()
    }

    fn receptive_field(&self) -> Option<usize> {
        receptive_field(&self.stack.receptive_field_layers()).last().map(|rf| rf.size)
    }
}

impl ModelFamily for DilatedCnnConfig {
    const VARIANTS: &'static [Variant<Self>] = &[Variant::new(
        "dilated_cnn",
        "Dilated 3×3 stack (Yu & Koltun 2016) + global pooling; dilations [1, 1, 1, 1] is the plain stack",
        DIGIT_INPUT,
        DilatedCnnConfig::new,
    )];

    fn check(&self) -> Result<(), VisionError> {
        if self.dilations.is_empty() || self.dilations.contains(&0) {
            return Err(VisionError::Config(format!(
                "dilations must be positive rates, one per layer, got {:?}",
                self.dilations
            )));
        }
        Ok(())
    }
}

impl ClassifierFamily for DilatedCnnConfig {
    fn init_with<B: AutodiffBackend, J: OnClassifier<B>>(&self, device: &B::Device, job: J) -> J::Output {
        job.run(self.init::<B>(device))
    }
}
