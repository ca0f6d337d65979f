//! Backbones against their papers: parameter counts equal the published ones (torchvision's
//! model tables, which the issue and the papers quote), multiply-adds within 5% of the papers.

use burn::backend::{Autodiff, NdArray};
use burn::prelude::*;
use kiln_vision::backbones::*;
use kiln_vision::blocks::*;
use kiln_vision::complexity::trainable_parameters;
use kiln_vision::ImageClassifier;

type A = Autodiff<NdArray>;
type B = NdArray;

fn device() -> burn::backend::ndarray::NdArrayDevice {
    Default::default()
}

fn params<M: burn::module::Module<A>>(model: &M) -> usize {
    trainable_parameters(model)
}

fn macs<M: ImageClassifier<A>>(model: &M) -> f64 {
    model.complexity([3, 224, 224]).multiply_adds as f64 / 1e6
}

fn assert_close(name: &str, measured: f64, paper: f64) {
    let error = (measured - paper).abs() / paper;
    assert!(error < 0.05, "{name}: {measured:.1}M multiply-adds vs the paper's {paper}M ({:.1}% off)", error * 100.0);
}

mod parameter_counts {
    use super::*;

    #[test]
    fn resnets() {
        assert_eq!(params(&ResNetConfig::new(18).init::<A>(&device())), 11_689_512);
        assert_eq!(params(&ResNetConfig::new(34).init::<A>(&device())), 21_797_672);
        assert_eq!(params(&ResNetConfig::new(50).init::<A>(&device())), 25_557_032);
    }

    #[test]
    fn googlenet_without_auxiliary_heads() {
        assert_eq!(params(&GoogLeNetConfig::new().init::<A>(&device())), 6_624_904);
        // The paper's 5×5 branch: Σ reduce·out over the nine modules (Table 1) is 23,808,
        // and each weight pair grows from 9 to 25 taps.
        let paper = GoogLeNetConfig::new().with_large_kernel(5).init::<A>(&device());
        assert_eq!(params(&paper), 6_624_904 + 23_808 * 16);
    }

    #[test]
    fn mobilenets() {
        assert_eq!(params(&MobileNetV1Config::new().init::<A>(&device())), 4_231_976);
        assert_eq!(params(&MobileNetV2Config::new().init::<A>(&device())), 3_504_872);
    }

    #[test]
    fn shufflenet_v2_at_every_width() {
        assert_eq!(params(&ShuffleNetV2Config::x0_5().init::<A>(&device())), 1_366_792);
        assert_eq!(params(&ShuffleNetV2Config::x1_0().init::<A>(&device())), 2_278_604);
        assert_eq!(params(&ShuffleNetV2Config::x1_5().init::<A>(&device())), 3_503_624);
        assert_eq!(params(&ShuffleNetV2Config::x2_0().init::<A>(&device())), 7_393_996);
    }

    #[test]
    fn efficientnet_b0_to_b7() {
        let published = [5_288_548, 7_794_184, 9_109_994, 12_233_232, 19_341_616, 30_389_784, 43_040_704, 66_347_960];
        for (n, expected) in published.into_iter().enumerate() {
            assert_eq!(params(&EfficientNetConfig::b(n).init::<A>(&device())), expected, "EfficientNet-B{n}");
        }
    }

    #[test]
    fn vit_b16() {
        assert_eq!(params(&VitConfig::base().init::<A>(&device())), 86_567_656);
    }

    #[test]
    fn vit_ti_and_s_from_the_layer_formula() {
        // Per layer: 2 layer norms (4D), attention (4D² + 4D), MLP (2·D·M + M + D); plus the
        // patch projection (3·16²·D + D), class token D, 197·D positions, final norm 2D, head.
        let expected = |d: usize, m: usize| {
            let layer = 4 * d + 4 * d * d + 4 * d + 2 * d * m + m + d;
            12 * layer + 3 * 256 * d + d + d + 197 * d + 2 * d + d * 1000 + 1000
        };
        assert_eq!(params(&VitConfig::tiny().init::<A>(&device())), expected(192, 768));
        assert_eq!(params(&VitConfig::small().init::<A>(&device())), expected(384, 1536));
        assert_eq!(expected(768, 3072), 86_567_656);
    }
}

mod multiply_adds {
    use super::*;

    #[test]
    fn mobilenet_v1_569m() {
        assert_close("MobileNetV1", macs(&MobileNetV1Config::new().init::<A>(&device())), 569.0);
    }

    #[test]
    fn mobilenet_v2_300m() {
        assert_close("MobileNetV2", macs(&MobileNetV2Config::new().init::<A>(&device())), 300.0);
    }

    #[test]
    fn shufflenet_v2_146m() {
        assert_close("ShuffleNetV2 1.0×", macs(&ShuffleNetV2Config::x1_0().init::<A>(&device())), 146.0);
    }

    #[test]
    fn efficientnet_b0_390m() {
        assert_close("EfficientNet-B0", macs(&EfficientNetConfig::b(0).init::<A>(&device())), 390.0);
    }

    #[test]
    fn resnet50_4_1g() {
        // He et al. 2016, Table 1: 3.8·10⁹ FLOPs (multiply-adds); torchvision's v1.5 is 4.1·10⁹.
        assert_close("ResNet-50", macs(&ResNetConfig::new(50).init::<A>(&device())), 4_110.0);
    }
}

mod scaling_rules {
    use super::*;

    #[test]
    fn compound_scaling_follows_equation_3() {
        let phi = 2.0;
        let config = EfficientNetConfig::compound(phi);
        assert!((config.depth_coefficient - 1.44).abs() < 1e-12);
        assert!((config.width_coefficient - 1.21).abs() < 1e-12);
        assert_eq!(config.resolution, 296); // 224 · 1.3225 = 296.24
                                            // α·β²·γ² ≈ 2 (Sec. 3.3): each φ doubles the FLOPs.
        let flops_growth = 1.2_f64 * 1.1 * 1.1 * 1.15 * 1.15;
        assert!((flops_growth - 1.92).abs() < 0.01);
    }

    #[test]
    fn width_multipliers_thin_every_layer() {
        // MobileNetV1 at α = 0.5: the paper's Table 6 gives 1.3M parameters (with 1000 classes).
        let half = params(&MobileNetV1Config::new().with_width_multiplier(0.5).init::<A>(&device()));
        assert!((half as f64 / 1e6 - 1.3).abs() < 0.05, "{half}");
        // and 149M multiply-adds.
        let macs = MobileNetV1Config::new().with_width_multiplier(0.5).init::<A>(&device()).complexity([3, 224, 224]);
        assert_close("MobileNetV1 0.5", macs.multiply_adds as f64 / 1e6, 149.0);
    }
}

mod blocks_behave {
    use super::*;

    #[test]
    fn channel_shuffle_is_the_published_permutation() {
        // ShuffleNet Fig. 1: with g groups of n channels, output channel i·g + k is input k·n + i.
        let (groups, per_group) = (3, 4);
        let c = groups * per_group;
        let x = Tensor::<B, 1>::from_floats((0..c).map(|i| i as f32).collect::<Vec<_>>().as_slice(), &device())
            .reshape([1, c, 1, 1]);
        let y: Vec<f32> = channel_shuffle(x, groups).into_data().to_vec().unwrap();
        for i in 0..per_group {
            for k in 0..groups {
                assert_eq!(y[i * groups + k], (k * per_group + i) as f32);
            }
        }
    }

    #[test]
    fn inverted_residual_shortcut_only_when_shapes_match() {
        assert!(InvertedResidualConfig::new(24, 24, 6).init::<B>(&device()).uses_shortcut());
        assert!(!InvertedResidualConfig::new(24, 24, 6).with_stride(2).init::<B>(&device()).uses_shortcut());
        assert!(!InvertedResidualConfig::new(24, 32, 6).init::<B>(&device()).uses_shortcut());
    }

    #[test]
    fn squeeze_excitation_with_zero_weights_halves_the_input() {
        // Zero weights and biases give gates σ(0) = 1/2 for every channel.
        let mut se = SqueezeExcitationConfig::new(4, 2).init::<B>(&device());
        se.reduce.weight = se.reduce.weight.map(|w| w.zeros_like());
        se.expand.weight = se.expand.weight.map(|w| w.zeros_like());
        se.expand.bias = se.expand.bias.map(|b| b.map(|b| b.zeros_like()));
        let x = Tensor::<B, 4>::random([2, 4, 3, 3], burn::tensor::Distribution::Default, &device());
        let y = se.forward(x.clone());
        y.into_data().assert_approx_eq::<f32>(&x.mul_scalar(0.5).into_data(), burn::tensor::Tolerance::default());
    }

    #[test]
    fn stochastic_depth_keeps_the_expectation_in_training() {
        let drop = StochasticDepthConfig::new(0.25).init();
        let x = Tensor::<A, 4>::ones([4000, 1, 1, 1], &device());
        let y: Vec<f32> = drop.forward(x).into_data().to_vec().unwrap();
        let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / y.len() as f64;
        assert!((kept - 0.75).abs() < 0.03, "kept {kept}");
        assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.75).abs() < 1e-6));
    }

    #[test]
    fn every_backbone_runs_forward_on_a_small_input() {
        let x = || Tensor::<B, 4>::zeros([2, 3, 64, 64], &device());
        let with_classes = 7;
        let shapes = [
            ResNetConfig::new(18).with_num_classes(with_classes).init::<B>(&device()).forward(x()).dims(),
            ResNetConfig::new(50)
                .with_width(16)
                .with_num_classes(with_classes)
                .init::<B>(&device())
                .forward(x())
                .dims(),
            GoogLeNetConfig::new().with_num_classes(with_classes).init::<B>(&device()).forward(x()).dims(),
            MobileNetV1Config::new().with_num_classes(with_classes).init::<B>(&device()).forward(x()).dims(),
            MobileNetV2Config::new().with_num_classes(with_classes).init::<B>(&device()).forward(x()).dims(),
            ShuffleNetV2Config::snet146().with_num_classes(with_classes).init::<B>(&device()).forward(x()).dims(),
            EfficientNetConfig::b(0).with_num_classes(with_classes).init::<B>(&device()).forward(x()).dims(),
            VitConfig::tiny()
                .with_depth(2)
                .with_image_size(64)
                .with_num_classes(with_classes)
                .init::<B>(&device())
                .forward(x())
                .dims(),
        ];
        for dims in shapes {
            assert_eq!(dims, [2, with_classes]);
        }
    }
}

mod input_checks {
    use super::*;

    #[test]
    fn vit_names_the_keys_to_change_for_another_image_size() {
        let vit = VitConfig::tiny().with_depth(1).init::<B>(&device());
        assert!(vit.check_input([3, 224, 224]).is_ok());
        let e = vit.check_input([1, 28, 28]).unwrap_err().to_string();
        assert!(e.contains("3×224×224") && e.contains("image_size = 28") && e.contains("in_channels = 1"), "{e}");
        // CNNs end in global pooling and take any size.
        assert!(MobileNetV2Config::new().init::<B>(&device()).check_input([1, 28, 28]).is_ok());
    }
}
