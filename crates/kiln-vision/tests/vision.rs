//! kiln-vision against the papers' arithmetic.

use burn::backend::NdArray;
use burn::module::Module;
use burn::prelude::*;
use kiln_vision::{Activation, ImageClassifier, LeNet5Config, MnistCnnConfig, ShapeTrace};

type B = NdArray;

mod lenet5 {
    use super::*;

    #[test]
    fn has_61706_parameters() {
        // C1 6·(1·25+1)=156, C3 16·(6·25+1)=2,416, C5 120·(16·25+1)=48,120,
        // F6 84·(120+1)=10,164, output 10·(84+1)=850: 61,706.
        let model = LeNet5Config::new().init::<burn::backend::Autodiff<B>>(&Default::default());
        assert_eq!(model.num_params(), 61_706);
        assert_eq!(kiln_vision::complexity::trainable_parameters(&model), 61_706);
    }

    #[test]
    fn multiply_adds_follow_the_layer_arithmetic() {
        // C1 6·28·28·25=117,600; C3 16·10·10·150=240,000; C5 120·400=48,000; F6 10,080; out 840.
        let model = LeNet5Config::new().init::<B>(&Default::default());
        let c = model.complexity([1, 28, 28]);
        assert_eq!(c.multiply_adds, 117_600 + 240_000 + 48_000 + 10_080 + 840);
        assert_eq!(c.output, [10, 1, 1]);
    }

    #[test]
    fn maps_a_batch_of_digits_to_logits() {
        let device = Default::default();
        for activation in [Activation::Relu, Activation::Tanh, Activation::ScaledTanh] {
            let model = LeNet5Config::new().with_activation(activation).init::<B>(&device);
            let logits = model.forward(Tensor::zeros([3, 1, 28, 28], &device));
            assert_eq!(logits.dims(), [3, 10]);
        }
    }

    #[test]
    fn scaled_tanh_is_the_papers_function() {
        // LeCun et al. 1998 Appendix A chose A = 1.7159, S = 2/3 so that f(±1) = ±1.
        let x = Tensor::<B, 1>::from_floats([1.0, -1.0, 0.0], &Default::default());
        let y: Vec<f32> = Activation::ScaledTanh.apply(x).into_data().to_vec().unwrap();
        assert!((y[0] - 1.0).abs() < 1e-4 && (y[1] + 1.0).abs() < 1e-4 && y[2] == 0.0, "{y:?}");
    }
}

mod mnist_cnn {
    use super::*;

    #[test]
    fn parameter_count_follows_the_widths() {
        type A = burn::backend::Autodiff<B>;
        let model = MnistCnnConfig::new().with_width(8).with_hidden(16).init::<A>(&Default::default());
        // conv (no bias) + BN (γ, β): 1·8·9+16, 8·8·9+16, 8·16·9+32, 16·16·9+32;
        // hidden 784·16+16; output 16·10+10.
        let expected = (72 + 16) + (576 + 16) + (1152 + 32) + (2304 + 32) + (784 * 16 + 16) + (160 + 10);
        assert_eq!(kiln_vision::complexity::trainable_parameters(&model), expected);
        // Burn's own count adds the running mean and variance of every batch norm.
        assert_eq!(model.num_params(), expected + 2 * (8 + 8 + 16 + 16));
        let logits = model.forward(Tensor::zeros([2, 1, 28, 28], &Default::default()));
        assert_eq!(logits.dims(), [2, 10]);
    }
}

mod complexity {
    use super::*;

    #[test]
    fn conv_output_size_and_cost_follow_the_standard_formula() {
        // 224×224×3, 7×7/2 pad 3 → 112×112×64 (ResNet stem): 112·112·64·3·49 multiply-adds.
        let t = ShapeTrace::new([3, 224, 224]).conv2d(64, 7, 2, 3, 1);
        assert_eq!(t.shape, [64, 112, 112]);
        assert_eq!(t.multiply_adds, 112 * 112 * 64 * 3 * 49);
        // Depthwise 3×3 (groups = channels) costs 9 per output element.
        let d = ShapeTrace::new([32, 10, 10]).conv2d(32, 3, 1, 1, 32);
        assert_eq!(d.multiply_adds, 32 * 10 * 10 * 9);
        assert_eq!(ShapeTrace::new([64, 112, 112]).pool2d(2, 2).shape, [64, 56, 56]);
    }
}
