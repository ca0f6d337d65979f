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
        let x = Tensor::<B, 1>::from_floats([1.0f32, -1.0, 0.0], &Default::default());
        // `convert`: f64 tests elsewhere in this binary can change the device's default float type.
        let y: Vec<f32> = Activation::ScaledTanh.apply(x).into_data().convert::<f32>().to_vec().unwrap();
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

mod boxes {
    use burn::backend::{Autodiff, NdArray};
    use burn::prelude::*;
    use kiln_vision::boxes::*;
    use kiln_vision::receptive_field::{receptive_field, RfLayer};

    type F = NdArray<f64>;

    fn t(rows: &[[f64; 4]]) -> Tensor<F, 2> {
        let flat: Vec<f64> = rows.iter().flatten().copied().collect();
        Tensor::from_data(TensorData::new(flat, [rows.len(), 4]), &Default::default())
    }

    fn values<const D: usize>(x: Tensor<F, D>) -> Vec<f64> {
        // `convert`: another test in this binary may have set the device's float type to f32.
        x.into_data().convert::<f64>().to_vec().unwrap()
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * (1.0 + b.abs())
    }

    #[test]
    fn formats_convert_both_ways() {
        let xyxy = t(&[[1.0, 2.0, 5.0, 8.0]]);
        assert_eq!(values(convert(xyxy.clone(), BoxFormat::Xyxy, BoxFormat::Xywh)), vec![1.0, 2.0, 4.0, 6.0]);
        assert_eq!(values(convert(xyxy.clone(), BoxFormat::Xyxy, BoxFormat::Cxcywh)), vec![3.0, 5.0, 4.0, 6.0]);
        let back =
            convert(convert(xyxy.clone(), BoxFormat::Xyxy, BoxFormat::Cxcywh), BoxFormat::Cxcywh, BoxFormat::Xyxy);
        assert_eq!(values(back), values(xyxy.clone()));
        assert_eq!(values(box_area(xyxy)), vec![24.0]);
    }

    #[test]
    fn overlaps_of_two_offset_squares_match_the_hand_computation() {
        // A = [0,0,2,2], B = [1,1,3,3]: intersection 1, union 7, enclosing box 3×3 (area 9,
        // squared diagonal 18), centres (1,1) and (2,2) so ρ² = 2; equal aspect ratios, v = 0.
        let (a, b) = (t(&[[0.0, 0.0, 2.0, 2.0]]), t(&[[1.0, 1.0, 3.0, 3.0]]));
        let iou = 1.0 / 7.0;
        let expect = [
            (Overlap::Iou, iou),
            (Overlap::Giou, iou - 2.0 / 9.0),
            (Overlap::Diou, iou - 2.0 / 18.0),
            (Overlap::Ciou, iou - 2.0 / 18.0),
        ];
        for (kind, want) in expect {
            let got = values(paired_overlap(a.clone(), b.clone(), kind))[0];
            assert!(close(got, want, 1e-6), "{kind:?}: {got} vs {want}");
        }
    }

    #[test]
    fn ciou_penalises_a_different_aspect_ratio() {
        // A = [0,0,2,2], B = [0,0,4,2]: IoU 4/8, c² = 20, ρ² = 1, so DIoU = 0.45;
        // v = 4/π²·(atan 2 − atan 1)², α = v / (0.5 + v).
        let (a, b) = (t(&[[0.0, 0.0, 2.0, 2.0]]), t(&[[0.0, 0.0, 4.0, 2.0]]));
        let v = 4.0 / std::f64::consts::PI.powi(2) * (2f64.atan() - 1f64.atan()).powi(2);
        let want = 0.45 - v / (0.5 + v) * v;
        let got = values(paired_overlap(a, b, Overlap::Ciou))[0];
        assert!(close(got, want, 1e-6), "{got} vs {want}");
    }

    #[test]
    fn pairwise_matrix_has_one_entry_per_pair() {
        let a = t(&[[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0]]);
        let b = t(&[[0.0, 0.0, 1.0, 1.0], [2.0, 0.0, 3.0, 1.0], [0.0, 0.0, 2.0, 1.0]]);
        let m = pairwise_overlap(a, b, Overlap::Giou);
        assert_eq!(m.dims(), [2, 3]);
        let v = values(m);
        // Row 0: identical (1); disjoint two apart (−1/3); half inside a 2×1 box (IoU 1/2).
        for (got, want) in v[..3].iter().zip([1.0, -1.0 / 3.0, 0.5]) {
            assert!(close(*got, want, 1e-6), "{v:?}");
        }
        // Row 1, column 1: [0,0,2,2] and [2,0,3,1] touch: IoU 0, enclosing 3×2 = 6, union 5.
        assert!(close(v[4], -1.0 / 6.0, 1e-6), "{v:?}");
    }

    /// The papers' formulas in plain f64, for finite differences. `alpha` freezes CIoU's α.
    fn reference(p: [f64; 4], g: [f64; 4], kind: Overlap, alpha: Option<f64>) -> f64 {
        let (pw, ph, gw, gh) = (p[2] - p[0], p[3] - p[1], g[2] - g[0], g[3] - g[1]);
        let iw = (p[2].min(g[2]) - p[0].max(g[0])).max(0.0);
        let ih = (p[3].min(g[3]) - p[1].max(g[1])).max(0.0);
        let union = pw * ph + gw * gh - iw * ih;
        let iou = iw * ih / union;
        let (cw, ch) = (p[2].max(g[2]) - p[0].min(g[0]), p[3].max(g[3]) - p[1].min(g[1]));
        let rho2 = ((p[0] + p[2] - g[0] - g[2]) / 2.0).powi(2) + ((p[1] + p[3] - g[1] - g[3]) / 2.0).powi(2);
        let v = 4.0 / std::f64::consts::PI.powi(2) * ((gw / gh).atan() - (pw / ph).atan()).powi(2);
        match kind {
            Overlap::Iou => 1.0 - iou,
            Overlap::Giou => 1.0 - (iou - (cw * ch - union) / (cw * ch)),
            Overlap::Diou => 1.0 - (iou - rho2 / (cw * cw + ch * ch)),
            Overlap::Ciou => {
                let a = alpha.unwrap_or(v / (1.0 - iou + v));
                1.0 - (iou - rho2 / (cw * cw + ch * ch) - a * v)
            }
        }
    }

    #[test]
    fn iou_loss_gradients_match_finite_differences() {
        type A = Autodiff<F>;
        let cases = [([0.3, 0.2, 2.1, 1.7], [1.0, 0.5, 3.0, 2.5]), ([0.0, 0.0, 1.0, 2.0], [3.0, 1.0, 4.5, 2.5])];
        for (pred, target) in cases {
            for kind in [Overlap::Iou, Overlap::Giou, Overlap::Diou, Overlap::Ciou] {
                let device = Default::default();
                let p = Tensor::<A, 2>::from_data(TensorData::new(pred.to_vec(), [1, 4]), &device).require_grad();
                let g = Tensor::<A, 2>::from_data(TensorData::new(target.to_vec(), [1, 4]), &device);
                let loss = IouLossConfig::new().with_kind(kind).init().forward(p.clone(), g);
                let value: f64 = loss.clone().into_scalar();
                let grads = loss.backward();
                let analytic: Vec<f64> = p.grad(&grads).unwrap().into_data().convert::<f64>().to_vec().unwrap();
                // CIoU's α is a constant in the gradient (Zheng et al. 2020, §3.2).
                let alpha = (kind == Overlap::Ciou).then(|| {
                    let iou = 1.0 - reference(pred, target, Overlap::Iou, None);
                    let v = (1.0 - reference(pred, target, Overlap::Diou, None))
                        - (1.0 - reference(pred, target, Overlap::Ciou, Some(1.0)));
                    v / (1.0 - iou + v)
                });
                assert!(close(value, reference(pred, target, kind, None), 1e-6), "{kind:?} value");
                for i in 0..4 {
                    let h = 1e-6;
                    let (mut up, mut down) = (pred, pred);
                    up[i] += h;
                    down[i] -= h;
                    let numeric =
                        (reference(up, target, kind, alpha) - reference(down, target, kind, alpha)) / (2.0 * h);
                    assert!((analytic[i] - numeric).abs() < 1e-6, "{kind:?} d/dx{i}: {} vs {numeric}", analytic[i]);
                }
            }
        }
    }

    #[test]
    fn every_iou_loss_has_zero_gradient_at_its_minimum() {
        // Prediction == target: the loss is 0, its minimum, so the gradient must vanish (Zheng et
        // al. 2020's DIoU/CIoU and Rezatofighi et al. 2019's GIoU are all smooth there).
        type A = Autodiff<F>;
        let device = Default::default();
        for target in [[0.3, 0.2, 2.1, 1.7], [1.0, 0.5, 3.0, 4.5], [0.0, 0.0, 1.0, 1.0]] {
            for kind in [Overlap::Iou, Overlap::Giou, Overlap::Diou, Overlap::Ciou] {
                let p = Tensor::<A, 2>::from_data(TensorData::new(target.to_vec(), [1, 4]), &device).require_grad();
                let g = Tensor::<A, 2>::from_data(TensorData::new(target.to_vec(), [1, 4]), &device);
                let loss = IouLossConfig::new().with_kind(kind).init().forward(p.clone(), g);
                let value: f64 = loss.clone().into_scalar();
                let grads: Vec<f64> = p.grad(&loss.backward()).unwrap().into_data().convert::<f64>().to_vec().unwrap();
                assert!(value.abs() < 1e-5, "{kind:?} at {target:?}: loss {value}");
                assert!(grads.iter().all(|d| d.abs() < 1e-4), "{kind:?} at {target:?}: gradient {grads:?}");
            }
        }
    }

    #[test]
    fn degenerate_boxes_give_finite_values_and_gradients() {
        type A = Autodiff<F>;
        let device = Default::default();
        for kind in [Overlap::Iou, Overlap::Giou, Overlap::Diou, Overlap::Ciou] {
            let p =
                Tensor::<A, 2>::from_data(TensorData::new(vec![1.0, 1.0, 1.0, 1.0], [1, 4]), &device).require_grad();
            let g = Tensor::<A, 2>::from_data(TensorData::new(vec![1.0, 1.0, 1.0, 1.0], [1, 4]), &device);
            let loss = IouLossConfig::new().with_kind(kind).init().forward(p.clone(), g);
            let value: f64 = loss.clone().into_scalar();
            let grads: Vec<f64> = p.grad(&loss.backward()).unwrap().into_data().convert::<f64>().to_vec().unwrap();
            assert!(value.is_finite() && grads.iter().all(|g| g.is_finite()), "{kind:?}: {value} {grads:?}");
        }
    }

    #[test]
    fn reductions() {
        let pred = t(&[[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0]]);
        let target = t(&[[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]]);
        let loss = |r| {
            values(
                IouLossConfig::new()
                    .with_kind(Overlap::Iou)
                    .with_reduction(r)
                    .init()
                    .forward(pred.clone(), target.clone()),
            )
        };
        // Losses 0 and 1 − 1/4.
        assert!(close(loss(Reduction::None)[1], 0.75, 1e-6));
        assert!(close(loss(Reduction::Sum)[0], 0.75, 1e-6));
        assert!(close(loss(Reduction::Mean)[0], 0.375, 1e-6));
    }

    #[test]
    fn nms_keeps_the_best_of_each_cluster_and_classes_apart() {
        let boxes = [[0.0, 0.0, 2.0, 2.0], [0.1, 0.0, 2.1, 2.0], [5.0, 5.0, 7.0, 7.0], [0.0, 0.1, 2.0, 2.1]];
        let scores = [0.8, 0.9, 0.5, 0.7];
        assert_eq!(nms(&boxes, &scores, 0.5), vec![1, 2]);
        assert_eq!(batched_nms(&boxes, &scores, &[0, 0, 0, 1], 0.5), vec![1, 3, 2]);
    }

    #[test]
    fn diou_nms_keeps_a_neighbour_whose_centre_is_far() {
        // IoU([0,0,4,4], [1,0,5,4]) = 12/20 = 0.6; ρ²/c² = 1/41, so DIoU = 0.5756 < 0.59.
        let boxes = [[0.0, 0.0, 4.0, 4.0], [1.0, 0.0, 5.0, 4.0]];
        assert_eq!(nms(&boxes, &[0.9, 0.8], 0.59), vec![0]);
        assert_eq!(diou_nms(&boxes, &[0.9, 0.8], 0.59, 1.0), vec![0, 1]);
        assert_eq!(diou_nms(&boxes, &[0.9, 0.8], 0.55, 1.0), vec![0]);
    }

    #[test]
    fn soft_nms_decays_scores_by_the_papers_rules() {
        // Box 1 overlaps box 0 with IoU exactly 1/2; box 2 is far away.
        let boxes = [[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 1.0], [10.0, 10.0, 11.0, 11.0]];
        let scores = [0.9, 0.8, 0.7];
        let linear = SoftNmsConfig { decay: SoftNmsDecay::Linear, iou_threshold: 0.3, ..Default::default() };
        let kept = soft_nms(&boxes, &scores, linear);
        assert_eq!(kept.iter().map(|k| k.0).collect::<Vec<_>>(), vec![0, 2, 1]);
        assert!((kept[2].1 - 0.8 * 0.5).abs() < 1e-5);
        let gaussian = SoftNmsConfig { decay: SoftNmsDecay::Gaussian, sigma: 0.5, ..Default::default() };
        let kept = soft_nms(&boxes, &scores, gaussian);
        assert!((kept[2].1 - 0.8 * (-0.25f32 / 0.5).exp()).abs() < 1e-5, "{kept:?}");
        let strict = SoftNmsConfig { score_threshold: 0.45, ..linear };
        assert_eq!(soft_nms(&boxes, &scores, strict).len(), 2);
    }

    #[test]
    fn vgg16_conv5_3_sees_196_pixels() {
        let (conv, pool) = (RfLayer::conv(3, 1, 1), RfLayer::conv(2, 2, 0));
        let mut layers = Vec::new();
        for (convs, last) in [(2, false), (2, false), (3, false), (3, false), (3, true)] {
            layers.extend(std::iter::repeat_n(conv, convs));
            if !last {
                layers.push(pool);
            }
        }
        let rf = receptive_field(&layers);
        let conv5_3 = rf.last().unwrap();
        assert_eq!((conv5_3.size, conv5_3.jump), (196, 16));
    }

    #[test]
    fn dilated_stack_grows_exponentially() {
        // Yu & Koltun 2016: 3×3 layers dilated 1, 2, 4 see (2^(i+2) − 1)²: 3, 7, 15 wide.
        let rf = receptive_field(&[RfLayer::dilated(3, 1, 1), RfLayer::dilated(3, 2, 2), RfLayer::dilated(3, 4, 4)]);
        assert_eq!(rf.iter().map(|r| r.size).collect::<Vec<_>>(), vec![3, 7, 15]);
        assert!(rf.iter().all(|r| r.jump == 1 && r.start == 0.5), "same padding keeps the grid");
    }
}
#[path = "vision/blocks.rs"]
mod blocks;
#[path = "vision/zoo.rs"]
mod zoo;

mod segmentation {
    use burn::backend::{Autodiff, NdArray};
    use burn::prelude::*;
    use burn::tensor::module::interpolate;
    use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
    use kiln_vision::segmentation::{upsample_bilinear, DeepLabConfig, FcnConfig, SemanticSegmenter};

    #[test]
    fn upsampling_matches_burns_bilinear_interpolation_and_differentiates_on_ndarray() {
        let device = Default::default();
        let values: Vec<f32> = (0..2 * 3 * 8 * 6).map(|i| ((i * 29 % 23) as f32 - 11.0) / 7.0).collect();
        let x = Tensor::<NdArray, 4>::from_data(TensorData::new(values, [2, 3, 8, 6]), &device);
        let ours: Vec<f32> = upsample_bilinear(x.clone(), [64, 45]).into_data().to_vec().unwrap();
        let options = InterpolateOptions { mode: InterpolateMode::Bilinear, align_corners: false };
        let burns: Vec<f32> = interpolate(x, [64, 45], options).into_data().to_vec().unwrap();
        let worst = ours.iter().zip(&burns).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst < 1e-5, "largest difference {worst}");
        // Each output is a convex combination: gradients of the sum are the column sums, and
        // they add up to the number of outputs.
        let x = Tensor::<Autodiff<NdArray>, 4>::ones([1, 1, 2, 2], &device).require_grad();
        let grads = upsample_bilinear(x.clone(), [4, 4]).sum().backward();
        let g: Vec<f32> = x.grad(&grads).unwrap().into_data().to_vec().unwrap();
        assert!((g.iter().sum::<f32>() - 16.0).abs() < 1e-5 && g.iter().all(|v| (v - 4.0).abs() < 1e-5), "{g:?}");
    }

    #[test]
    fn both_networks_score_every_pixel_of_any_size_and_refuse_what_the_stem_cannot_take() {
        let device = Default::default();
        let fcn = FcnConfig::new().with_width(4).init::<NdArray>(&device);
        let deeplab = DeepLabConfig::new().with_width(4).with_aspp_channels(8).init::<NdArray>(&device);
        let x = Tensor::<NdArray, 4>::zeros([1, 1, 40, 24], &device);
        assert_eq!(fcn.pixel_logits(x.clone()).dims(), [1, 11, 40, 24]);
        assert_eq!(deeplab.pixel_logits(x).dims(), [1, 11, 40, 24]);
        assert_eq!((fcn.classes(), deeplab.classes()), (11, 11));
        assert!(fcn.check_input([1, 4, 64]).unwrap_err().to_string().contains("at least 8×8"));
        assert!(deeplab.check_input([3, 64, 64]).unwrap_err().to_string().contains("1-channel"));
        assert!(DeepLabConfig::new().with_aspp_rates(vec![0]).validate().is_err());
    }
}

mod batch_norm {
    use burn::backend::Autodiff;
    use burn::module::AutodiffModule;
    use burn::nn::BatchNormConfig;
    use burn::prelude::*;
    use burn::tensor::Distribution;
    use kiln_vision::blocks::batch_norm_2d;

    type A = Autodiff<burn::backend::NdArray>;

    fn close(a: Tensor<A, 1>, b: Tensor<A, 1>, tolerance: f32) {
        let (a, b): (Vec<f32>, Vec<f32>) = (a.into_data().to_vec().unwrap(), b.into_data().to_vec().unwrap());
        let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
        assert!(worst < tolerance, "largest difference {worst}");
    }

    /// Kiln's batch norm is Burn's `BatchNorm::forward`, in values, in the gradients of the input
    /// and of γ and β, and in the running statistics it leaves.
    #[test]
    fn equals_burns_batch_norm_in_values_gradients_and_running_statistics() {
        let device = Default::default();
        let x = Tensor::<A, 4>::random([3, 4, 5, 6], Distribution::Normal(1.5, 2.0), &device);
        let config = BatchNormConfig::new(4).with_momentum(0.3);
        let ours = config.init::<A>(&device);
        // γ and β away from 1 and 0, the same in both.
        let gamma = Tensor::<A, 1>::from_floats([0.5, -1.0, 2.0, 1.5], &device);
        let beta = Tensor::<A, 1>::from_floats([0.1, 0.0, -0.3, 2.0], &device);
        let ours = burn::nn::BatchNorm {
            gamma: burn::module::Param::from_tensor(gamma.clone()),
            beta: burn::module::Param::from_tensor(beta.clone()),
            ..ours
        };
        let burns = burn::nn::BatchNorm {
            gamma: burn::module::Param::from_tensor(gamma),
            beta: burn::module::Param::from_tensor(beta),
            ..config.init::<A>(&device)
        };
        // A weighting so that the gradients are not those of a plain sum (which vanish for x).
        let weights = Tensor::<A, 4>::random([3, 4, 5, 6], Distribution::Default, &device);
        let x_ours = x.clone().require_grad();
        let x_burns = x.require_grad();
        let y_ours = batch_norm_2d(&ours, x_ours.clone());
        let y_burns = burns.forward(x_burns.clone());
        close(y_ours.clone().flatten(0, 3), y_burns.clone().flatten(0, 3), 1e-5);
        let g_ours = (y_ours * weights.clone()).sum().backward();
        let g_burns = (y_burns * weights).sum().backward();
        let grad = |t: &Tensor<A, 4>, g| Tensor::<A, 1>::from_inner(t.grad(g).unwrap().flatten(0, 3));
        close(grad(&x_ours, &g_ours), grad(&x_burns, &g_burns), 1e-4);
        let param = |p: &burn::module::Param<Tensor<A, 1>>, g| Tensor::<A, 1>::from_inner(p.val().grad(g).unwrap());
        close(param(&ours.gamma, &g_ours), param(&burns.gamma, &g_burns), 1e-3);
        close(param(&ours.beta, &g_ours), param(&burns.beta, &g_burns), 1e-3);
        close(ours.running_mean.value(), burns.running_mean.value(), 1e-5);
        close(ours.running_var.value(), burns.running_var.value(), 1e-4);
        // Inference (no autodiff) normalises with those running statistics, as Burn's does.
        let x = Tensor::<burn::backend::NdArray, 4>::random([2, 4, 3, 3], Distribution::Default, &device);
        let (ours, burns) = (ours.valid(), burns.valid());
        let (a, b): (Vec<f32>, Vec<f32>) = (
            batch_norm_2d(&ours, x.clone()).into_data().to_vec().unwrap(),
            burns.forward(x).into_data().to_vec().unwrap(),
        );
        assert!(a.iter().zip(&b).all(|(p, q)| (p - q).abs() < 1e-5));
    }
}

mod centernet {
    use kiln_vision::detection::{centernet_peaks, gaussian_radius, CenterNetTargets};

    #[test]
    fn gaussian_radius_is_cornernets_formula_worked_by_hand() {
        // 10×10 at IoU 0.7: case 3 is the smallest, (b + √(b² − 4ac)) / 2 with a = 2.8, b = −28,
        // c = −30: (−28 + √1120) / 2 = 2.7332; cases 1 and 2 give 19.075 and 36.733.
        assert!((gaussian_radius(10.0, 10.0, 0.7) - 2.733_201).abs() < 1e-5);
        // 4×8 at 0.7: case 3 with a = 2.8, b = −16.8, c = −9.6: (−16.8 + √389.76) / 2 = 1.4712.
        assert!((gaussian_radius(4.0, 8.0, 0.7) - 1.471_2).abs() < 1e-4);
    }

    #[test]
    fn heatmap_is_a_unit_peak_with_the_umich_gaussian_around_it() {
        // A 40×40 input box at stride 4 is 10×10 output pixels: radius ⌊2.73⌋ = 2, σ = 5/6.
        let t = CenterNetTargets::new(&[[20.0, 20.0, 60.0, 60.0]], &[1], 2, 16, 16, 4.0, 0.7);
        let at = |c: usize, x: usize, y: usize| t.heatmap[c * 256 + y * 16 + x];
        assert_eq!(at(1, 10, 10), 1.0);
        let sigma2 = (5.0f64 / 6.0).powi(2);
        assert!((f64::from(at(1, 11, 10)) - (-1.0 / (2.0 * sigma2)).exp()).abs() < 1e-6);
        assert!((f64::from(at(1, 12, 12)) - (-8.0 / (2.0 * sigma2)).exp()).abs() < 1e-6);
        assert_eq!(at(1, 13, 10), 0.0, "outside the radius");
        assert!(t.heatmap[..256].iter().all(|&v| v == 0.0), "class 0 holds nothing");
        assert_eq!(
            (t.centres.clone(), t.sizes.clone(), t.offsets.clone()),
            (vec![170], vec![[10.0, 10.0]], vec![[0.0, 0.0]])
        );
        // The offset keeps what the stride loses: centre 41/4 = 10.25 → pixel 10, offset 0.25.
        let t = CenterNetTargets::new(&[[21.0, 22.0, 61.0, 62.0]], &[0], 1, 16, 16, 4.0, 0.7);
        assert_eq!(t.offsets[0], [0.25, 0.5]);
    }

    #[test]
    fn overlapping_gaussians_of_one_class_merge_by_maximum() {
        let boxes = [[0.0, 0.0, 32.0, 32.0], [8.0, 0.0, 40.0, 32.0]];
        let both = CenterNetTargets::new(&boxes, &[0, 0], 1, 16, 16, 4.0, 0.7);
        let a = CenterNetTargets::new(&boxes[..1], &[0], 1, 16, 16, 4.0, 0.7);
        let b = CenterNetTargets::new(&boxes[1..], &[0], 1, 16, 16, 4.0, 0.7);
        for i in 0..256 {
            assert_eq!(both.heatmap[i], a.heatmap[i].max(b.heatmap[i]));
        }
    }

    #[test]
    fn decoding_the_targets_gives_the_boxes_back() {
        let boxes =
            [[3.0, 5.0, 27.0, 41.0], [60.0, 8.0, 101.0, 30.0], [40.0, 70.0, 52.0, 126.0], [90.0, 90.0, 120.0, 110.0]];
        let labels = [4, 0, 4, 9];
        let (h, w, stride) = (32, 32, 4.0);
        let t = CenterNetTargets::new(&boxes, &labels, 10, h, w, stride, 0.7);
        let (mut size, mut offset) = (vec![0.0; 2 * h * w], vec![0.0; 2 * h * w]);
        for ((&at, s), o) in t.centres.iter().zip(&t.sizes).zip(&t.offsets) {
            (size[at], size[h * w + at], offset[at], offset[h * w + at]) = (s[0], s[1], o[0], o[1]);
        }
        let found = centernet_peaks(&t.heatmap, &size, &offset, 10, h, w, stride, 4);
        assert_eq!(found.len(), 4);
        for (b, &label) in boxes.iter().zip(&labels) {
            let hit = found.iter().find(|f| f.class == label && (f.bbox[0] - b[0]).abs() < 1e-4).expect("box found");
            assert_eq!(hit.score, 1.0);
            for k in 0..4 {
                assert!((hit.bbox[k] - b[k]).abs() < 1e-4, "{:?} vs {b:?}", hit.bbox);
            }
        }
    }

    #[test]
    fn peaks_are_local_maxima_of_their_3x3_window_best_first() {
        // Two peaks of one class, a shoulder next to the higher one that is not a peak.
        let mut heat = vec![0.0; 25];
        (heat[6], heat[7], heat[18]) = (0.8, 0.7, 0.6);
        let found = centernet_peaks(&heat, &[1.0; 50], &[0.0; 50], 1, 5, 5, 1.0, 100);
        let scores: Vec<f32> = found.iter().map(|f| f.score).collect();
        // (0.8 at 6, 0.6 at 18) and the zeros far from both, which are their own 3×3 maxima.
        assert_eq!(&scores[..2], &[0.8, 0.6]);
        assert!(found.iter().all(|f| f.score != 0.7));
        assert_eq!(centernet_peaks(&heat, &[1.0; 50], &[0.0; 50], 1, 5, 5, 1.0, 1).len(), 1);
    }
}

mod suppression {
    use kiln_vision::detection::{ScoredBox, Suppression, SUPPRESSIONS};

    fn det(bbox: [f32; 4], class: usize, score: f32) -> ScoredBox {
        ScoredBox { bbox, class, score }
    }

    /// Two heavily overlapping boxes of class 0 (IoU 0.8 by hand: 8/10), the same boxes' twin in
    /// class 1, and a far box.
    fn crowd() -> Vec<ScoredBox> {
        vec![
            det([0.0, 0.0, 10.0, 10.0], 0, 0.9),
            det([0.0, 0.0, 10.0, 8.0], 0, 0.8),
            det([0.0, 0.0, 10.0, 10.0], 1, 0.7),
            det([50.0, 50.0, 60.0, 60.0], 0, 0.6),
        ]
    }

    #[test]
    fn every_name_parses_back_to_itself() {
        for name in SUPPRESSIONS {
            assert_eq!(Suppression::from_name(name).unwrap().name(), name);
        }
    }

    #[test]
    fn suppression_stays_within_a_class() {
        let kept = Suppression::from_name("nms").unwrap().apply(&crowd(), 100);
        let scores: Vec<f32> = kept.iter().map(|d| d.score).collect();
        assert_eq!(scores, vec![0.9, 0.7, 0.6], "the 0.8 box goes, its class-1 twin stays");
        assert_eq!(Suppression::None.apply(&crowd(), 3).len(), 3, "keep caps the count");
    }

    #[test]
    fn soft_nms_decays_instead_of_dropping() {
        // Linear: 0.8 · (1 − 0.8) = 0.16; Gaussian: 0.8 · exp(−0.64 / 0.5) = 0.2224.
        let linear = Suppression::from_name("soft_nms_linear").unwrap().apply(&crowd(), 100);
        assert!((linear.last().unwrap().score - 0.16).abs() < 1e-5, "{linear:?}");
        let gaussian = Suppression::from_name("soft_nms_gaussian").unwrap().apply(&crowd(), 100);
        assert!((gaussian.last().unwrap().score - 0.8 * (-0.64f32 / 0.5).exp()).abs() < 1e-5);
        assert_eq!(gaussian.len(), 4);
    }

    #[test]
    fn diou_nms_keeps_an_overlapping_box_whose_centre_is_away() {
        // Boxes 4 px apart: IoU 60/140 = 0.4286 by hand, DIoU's penalty ρ²/c² = 4²/(14² + 10²) =
        // 0.0541. At a threshold between IoU − penalty and IoU, NMS drops the second box and
        // DIoU-NMS keeps it.
        let pair = [det([0.0, 0.0, 10.0, 10.0], 0, 0.9), det([4.0, 0.0, 14.0, 10.0], 0, 0.8)];
        let iou = 60.0f32 / 140.0;
        let penalty = 16.0f32 / (14.0 * 14.0 + 10.0 * 10.0);
        let between = iou - penalty / 2.0;
        let nms = Suppression::Nms { iou: between }.apply(&pair, 10);
        let diou = Suppression::DiouNms { iou: between, beta: 1.0 }.apply(&pair, 10);
        assert_eq!((nms.len(), diou.len()), (1, 2));
    }
}

mod centernet_network {
    use burn::backend::NdArray;
    use burn::prelude::*;
    use kiln_vision::detection::{CenterNetConfig, LabelledBox, ObjectDetector, HEATMAP_PRIOR_BIAS};

    #[test]
    fn the_heatmap_bias_starts_every_pixel_at_probability_a_tenth() {
        // −ln((1 − π)/π) at π = 0.1 is −ln 9 = −2.1972; the reference code rounds it to −2.19.
        assert!((f64::from(HEATMAP_PRIOR_BIAS) + 9f64.ln()).abs() < 0.01);
        let net = CenterNetConfig::new().with_num_classes(3).with_width(4).init::<NdArray>(&Default::default());
        let bias: Vec<f32> = net.heat.out.bias.as_ref().unwrap().val().into_data().to_vec().unwrap();
        assert_eq!(bias, vec![HEATMAP_PRIOR_BIAS; 3]);
    }

    #[test]
    fn outputs_are_at_stride_four_and_odd_sizes_are_refused() {
        let device = Default::default();
        let net = CenterNetConfig::new().with_width(4).with_head_width(8).init::<NdArray>(&device);
        let (heat, size, offset) = net.forward(Tensor::zeros([1, 1, 32, 80], &device));
        assert_eq!((heat.dims(), size.dims(), offset.dims()), ([1, 10, 8, 20], [1, 2, 8, 20], [1, 2, 8, 20]));
        assert!(net.check_input([1, 128, 128]).is_ok());
        assert!(net.check_input([1, 100, 128]).unwrap_err().to_string().contains("multiples of 16"));
        assert!(net.check_input([3, 128, 128]).unwrap_err().to_string().contains("1-channel"));
    }

    #[test]
    fn size_and_offset_losses_are_the_l1_at_the_centres_worked_by_hand() {
        // With the size and offset heads' last convs zeroed, both predict 0 everywhere, so each
        // L1 term is the mean over objects of |target| summed over its two coordinates.
        let device = Default::default();
        let mut net = CenterNetConfig::new().with_width(4).with_head_width(8).init::<NdArray>(&device);
        for head in [&mut net.size, &mut net.offset] {
            head.out.weight = head.out.weight.clone().map(|w| w.zeros_like());
            head.out.bias = head.out.bias.clone().map(|b| b.map(|b| b.zeros_like()));
        }
        // Two boxes on a 64×64 input (16×16 output): 10×6 px centred at (13, 9) → 2.5×1.5
        // output px, centre (3.25, 2.25), offset (0.25, 0.25); 20×12 px centred at (40, 40) →
        // 5×3, centre (10, 10), offset (0, 0).
        let objects = vec![vec![
            LabelledBox { bbox: [8.0, 6.0, 18.0, 12.0], class: 1 },
            LabelledBox { bbox: [30.0, 34.0, 50.0, 46.0], class: 2 },
        ]];
        let losses = net.losses(Tensor::zeros([1, 1, 64, 64], &device), &objects);
        let value = |name: &str| -> f32 { losses.iter().find(|l| l.0 == name).unwrap().1.clone().into_scalar() };
        assert!((value("size_loss") - (2.5 + 1.5 + 5.0 + 3.0) / 2.0).abs() < 1e-5);
        assert!((value("offset_loss") - (0.25 + 0.25) / 2.0).abs() < 1e-5);
        let total = value("heat_loss") + 0.1 * value("size_loss") + value("offset_loss");
        assert!((value("loss") - total).abs() < 1e-5);
    }
}

mod fcos_network {
    use burn::backend::{Autodiff, NdArray};
    use burn::prelude::*;
    use kiln_vision::detection::{
        centreness, fcos_locations, ltrb, FcosConfig, FcosLevel, FcosTargets, LabelledBox, ObjectDetector,
        DENSE_PRIOR_BIAS,
    };

    fn two_levels() -> [FcosLevel; 2] {
        [
            FcosLevel { stride: 4, min_distance: 0.0, max_distance: 12.0 },
            FcosLevel { stride: 8, min_distance: 12.0, max_distance: f32::INFINITY },
        ]
    }

    #[test]
    fn locations_are_at_half_a_stride_then_every_stride() {
        let at = fcos_locations(&two_levels(), 16, 8);
        // Stride 4 on 16×8: 4 rows × 2 columns from (2, 2); stride 8: 2 × 1 from (4, 4).
        assert_eq!(at.len(), 8 + 2);
        assert_eq!((at[0], at[1], at[2], at[7]), ([2.0, 2.0], [6.0, 2.0], [2.0, 6.0], [6.0, 14.0]));
        assert_eq!((at[8], at[9]), ([4.0, 4.0], [4.0, 12.0]));
    }

    #[test]
    fn positives_follow_the_level_range_centre_sampling_and_the_smaller_box() {
        let levels = two_levels();
        // A 12×12 box [0, 0, 12, 12]: at stride 4 the locations (2|6|10, 2|6|10) are inside;
        // the farthest side of (6, 6) is 6, of (2, 2) is 10: all ≤ 12, so all nine are on P2.
        let small = FcosTargets::new(&[[0.0, 0.0, 12.0, 12.0]], &levels, 16, 16, None);
        let on_p2: Vec<usize> = (0..16).filter(|&k| small.assigned[k].is_some()).collect();
        assert_eq!(on_p2, [0, 1, 2, 4, 5, 6, 8, 9, 10]);
        assert!(small.assigned[16..].iter().all(Option::is_none), "no P3 location for a small box");
        // Centre sampling at 1 stride keeps only locations within 4 px of the centre (6, 6):
        // (6, 6) alone, strictly inside [2, 2, 10, 10].
        let sampled = FcosTargets::new(&[[0.0, 0.0, 12.0, 12.0]], &levels, 16, 16, Some(1.0));
        assert_eq!((0..20).filter(|&k| sampled.assigned[k].is_some()).collect::<Vec<_>>(), [5]);
        // A 32×32 box [0, 0, 32, 32] has farthest sides ≥ 16 > 12 everywhere: only on P3, at
        // (4|12|20|28, …), all 16 P3 locations.
        let large = FcosTargets::new(&[[0.0, 0.0, 32.0, 32.0]], &levels, 32, 32, None);
        assert!(large.assigned[..64].iter().all(Option::is_none));
        assert_eq!(large.assigned[64..].iter().filter(|a| a.is_some()).count(), 16);
        // Two boxes around (6, 6) on P2: the smaller one takes it.
        let both = FcosTargets::new(&[[0.0, 0.0, 16.0, 16.0], [4.0, 4.0, 9.0, 9.0]], &levels, 16, 16, None);
        assert_eq!(both.assigned[5], Some(1));
        assert_eq!(both.assigned[9], Some(0)); // (6, 10) is outside the small box
    }

    #[test]
    fn distances_and_centreness_are_worked_by_hand_and_decode_back_to_the_box() {
        let bbox = [2.0, 4.0, 14.0, 10.0];
        let d = ltrb([6.0, 6.0], bbox);
        assert_eq!(d, [4.0, 2.0, 8.0, 4.0]);
        // √(min(4, 8)/max(4, 8) · min(2, 4)/max(2, 4)) = √(1/2 · 1/2) = 1/2.
        assert!((centreness(d) - 0.5).abs() < 1e-6);
        assert!((centreness(ltrb([8.0, 7.0], bbox)) - 1.0).abs() < 1e-6);
        // Decoding (x − l, y − t, x + r, y + b) inverts the encoding.
        assert_eq!([6.0 - d[0], 6.0 - d[1], 6.0 + d[2], 6.0 + d[3]], bbox);
    }

    #[test]
    fn the_network_checks_its_config_and_input_and_starts_at_the_prior() {
        assert!((f64::from(DENSE_PRIOR_BIAS) + 99f64.ln()).abs() < 1e-3, "−ln((1 − 0.01)/0.01)");
        let device = Default::default();
        let net = FcosConfig::new().with_width(4).with_fpn_width(8).with_groups(2).init::<NdArray>(&device);
        let bias: Vec<f32> = net.head.class_out.bias.as_ref().unwrap().val().into_data().to_vec().unwrap();
        assert_eq!(bias, vec![DENSE_PRIOR_BIAS; 10]);
        assert!(net.check_input([1, 64, 48]).is_ok());
        assert!(net.check_input([1, 64, 40]).unwrap_err().to_string().contains("multiples of 16"));
        for bad in [
            FcosConfig::new().with_strides(vec![4, 16]),
            FcosConfig::new().with_level_limits(vec![24.0]),
            FcosConfig::new().with_groups(5),
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        let out = net.forward(Tensor::zeros([2, 1, 64, 32], &device));
        // P2 16×8 + P3 8×4 + P4 4×2 = 168 locations.
        assert_eq!(out.class_logits.dims(), [2, 168, 10]);
        assert_eq!(out.distances.dims(), [2, 168, 4]);
        assert!(out.refined.is_none());
    }

    #[test]
    fn varifocalnet_with_every_part_trains_and_names_its_losses() {
        // The star-shaped deformable convs and the refinement take gradients end to end.
        type A = Autodiff<NdArray>;
        let device = Default::default();
        let config = FcosConfig::new()
            .with_width(4)
            .with_fpn_width(8)
            .with_groups(2)
            .with_strides(vec![4, 8])
            .with_level_limits(vec![12.0])
            .with_varifocal(true)
            .with_star(true)
            .with_refine(true);
        let net = config.init::<A>(&device);
        let objects = vec![vec![LabelledBox { bbox: [4.0, 6.0, 20.0, 26.0], class: 2 }]];
        let images = Tensor::<A, 4>::random([1, 1, 32, 32], burn::tensor::Distribution::Default, &device);
        let losses = net.losses(images, &objects);
        let names: Vec<&str> = losses.iter().map(|l| l.0).collect();
        assert_eq!(names, ["loss", "class_loss", "box_loss", "refine_loss"]);
        let grads = losses[0].1.backward();
        let star = net.head.class_feature.star.as_ref().expect("a star-shaped class conv");
        let g = star.weight.grad(&grads).expect("the deformable conv gets a gradient");
        assert!(g.abs().sum().into_scalar() > 0.0);
        let refine = net.head.refine_out.as_ref().unwrap().weight.grad(&grads).unwrap();
        assert!(refine.abs().sum().into_scalar() > 0.0);
    }
}
