//! kiln-losses against the papers' formulas worked by hand.

use burn::backend::{Autodiff, NdArray};
use burn::prelude::*;
use kiln_losses::*;

type B = NdArray;

fn t1(values: &[f32]) -> Tensor<B, 1> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), &Default::default())
}

fn vals(x: Tensor<B, 1>) -> Vec<f32> {
    x.into_data().convert::<f32>().to_vec().unwrap()
}

fn logit(p: f32) -> f32 {
    (p / (1.0 - p)).ln()
}

fn assert_close(got: f32, want: f32) {
    assert!((got - want).abs() < 1e-5 * (1.0 + want.abs()), "{got} vs {want}");
}

#[test]
fn focal_loss_follows_lin_et_al() {
    let loss = SigmoidFocalLossConfig::new().with_reduction(Reduction::None).init();
    // p = 0.5: positive α(1−p)^γ·ln 2 with α = 0.25; negative (1−α)·p^γ·ln 2.
    let v = vals(loss.forward(t1(&[0.0, 0.0]), t1(&[1.0, 0.0])));
    assert_close(v[0], 0.25 * 0.25 * 2f32.ln());
    assert_close(v[1], 0.75 * 0.25 * 2f32.ln());
    // γ = 0 without α is binary cross-entropy: ln(1 + e^−x) for a positive.
    let bce = SigmoidFocalLossConfig::new().with_alpha(None).with_gamma(0.0).with_reduction(Reduction::Sum).init();
    assert_close(vals(bce.forward(t1(&[2.0]), t1(&[1.0])))[0], (1.0 + (-2f32).exp()).ln());
    // A confident correct prediction is down-weighted far more than cross-entropy.
    let easy = vals(loss.forward(t1(&[logit(0.95)]), t1(&[1.0])))[0];
    assert_close(easy, 0.25 * 0.05f32.powi(2) * -(0.95f32.ln()));
}

#[test]
fn centernet_focal_loss_follows_zhou_et_al() {
    // A peak predicted at 0.8 and a pixel with Y = 0.5 predicted at 0.3; one peak, so N = 1.
    let loss = CenterNetFocalLossConfig::new().init();
    let got = vals(loss.forward(t1(&[logit(0.8), logit(0.3)]), t1(&[1.0, 0.5])))[0];
    let want = 0.2f32.powi(2) * -(0.8f32.ln()) + 0.5f32.powi(4) * 0.3f32.powi(2) * -(0.7f32.ln());
    assert_close(got, want);
}

#[test]
fn varifocal_loss_follows_zhang_et_al() {
    let loss = VarifocalLossConfig::new().with_reduction(Reduction::None).init();
    let v = vals(loss.forward(t1(&[logit(0.8), logit(0.3)]), t1(&[0.6, 0.0])));
    // Positive with q = 0.6: −q(q ln p + (1 − q) ln(1 − p)); negative: −α p^γ ln(1 − p).
    assert_close(v[0], -0.6 * (0.6 * 0.8f32.ln() + 0.4 * 0.2f32.ln()));
    assert_close(v[1], 0.75 * 0.09 * -(0.7f32.ln()));
}

#[test]
fn smooth_l1_is_quadratic_then_linear() {
    let loss = SmoothL1LossConfig::new().with_reduction(Reduction::None).init();
    let v = vals(loss.forward(t1(&[0.5, 2.0, -3.0]), t1(&[0.0, 0.0, 0.0])));
    assert_eq!(v, vec![0.125, 1.5, 2.5]);
    let half = SmoothL1LossConfig::new().with_beta(0.5).with_reduction(Reduction::Mean).init();
    assert_close(vals(half.forward(t1(&[0.25, 1.0]), t1(&[0.0, 0.0])))[0], (0.0625 + 0.75) / 2.0);
}

#[test]
fn gaussian_kl_is_the_closed_form() {
    let d = Default::default();
    let mean = Tensor::<B, 2>::from_floats([[1.0, 0.0], [0.0, 0.0]], &d);
    let log_var = Tensor::<B, 2>::from_floats([[0.0, 0.0], [1.0, 0.0]], &d);
    let v = vals(gaussian_kl(mean, log_var));
    assert_close(v[0], 0.5);
    assert_close(v[1], 0.5 * (std::f32::consts::E - 2.0));
}

#[test]
fn soft_overlaps_equal_the_hard_metrics_on_hard_inputs() {
    // p = t = {1, 1, 0, 0} vs prediction {1, 0, 1, 0}: Dice 2·1/(2+2) = 0.5, IoU 1/3.
    let (p, t) = (t1(&[1.0, 0.0, 1.0, 0.0]), t1(&[1.0, 1.0, 0.0, 0.0]));
    assert_close(vals(soft_dice_loss(p.clone(), t.clone()))[0], 0.5);
    assert_close(vals(soft_iou_loss(p, t))[0], 1.0 - 1.0 / 3.0);
}

#[test]
fn gumbel_softmax_samples_the_categorical_distribution() {
    let d = Default::default();
    B::seed(&d, 11);
    let probs = [0.5f32, 0.3, 0.2];
    let logits = Tensor::<B, 1>::from_floats(probs.map(f32::ln), &d).reshape([1, 3]).expand([4000, 3]);
    let hard = gumbel_softmax(logits, 0.5, true);
    let rows: Vec<f32> = hard.clone().sum_dim(1).into_data().to_vec().unwrap();
    assert!(rows.iter().all(|&r| r == 1.0), "hard samples are one-hot");
    // Gumbel-max: argmax(log π + g) ~ Categorical(π).
    let freq: Vec<f32> = (hard.sum_dim(0) / 4000.0).into_data().to_vec().unwrap();
    for (f, p) in freq.iter().zip(probs) {
        assert!((f - p).abs() < 0.03, "{freq:?}");
    }
}

#[test]
fn straight_through_gradient_is_the_soft_samples() {
    type A = Autodiff<B>;
    let d = Default::default();
    A::seed(&d, 3);
    let logits = Tensor::<A, 2>::from_floats([[0.2, -0.1, 0.4]], &d).require_grad();
    let weights = Tensor::<A, 2>::from_floats([[1.0, 2.0, 3.0]], &d);
    A::seed(&d, 5);
    let hard = gumbel_softmax(logits.clone(), 1.0, true);
    let g_hard: Vec<f32> =
        logits.grad(&(hard * weights.clone()).sum().backward()).unwrap().into_data().to_vec().unwrap();
    A::seed(&d, 5);
    let soft = gumbel_softmax(logits.clone(), 1.0, false);
    let g_soft: Vec<f32> = logits.grad(&(soft * weights).sum().backward()).unwrap().into_data().to_vec().unwrap();
    for (a, b) in g_hard.iter().zip(&g_soft) {
        assert!((a - b).abs() < 1e-6, "{g_hard:?} vs {g_soft:?}");
    }
}

mod margin {
    use super::*;
    use burn::module::Param;
    use kiln_losses::margin::*;
    use std::f32::consts::PI;

    /// Two classes whose weight columns are the axes, scaled by `norms`.
    fn axes(norms: [f32; 2]) -> Param<Tensor<B, 2>> {
        Param::from_tensor(Tensor::from_floats([[norms[0], 0.0], [0.0, norms[1]]], &Default::default()))
    }

    /// A feature of length `r` at angle `deg` from class 0 (so 90° − deg from class 1).
    fn feature(r: f32, deg: f32) -> Tensor<B, 2> {
        let a = deg.to_radians();
        Tensor::from_floats([[r * a.cos(), r * a.sin()]], &Default::default())
    }

    fn row(x: Tensor<B, 2>) -> Vec<f32> {
        x.into_data().convert::<f32>().to_vec().unwrap()
    }

    fn target0() -> Tensor<B, 1, Int> {
        Tensor::from_ints([0], &Default::default())
    }

    #[test]
    fn cosface_subtracts_the_margin_from_the_target_cosine() {
        let mut head = CosFaceConfig::new(2, 2).with_scale(30.0).with_margin(0.35).init::<B>(&Default::default());
        head.weight = axes([3.0, 0.5]);
        let logits = row(head.forward(feature(2.0, 30.0), target0()));
        assert_close(logits[0], 30.0 * (30f32.to_radians().cos() - 0.35));
        assert_close(logits[1], 30.0 * 60f32.to_radians().cos());
    }

    #[test]
    fn arcface_adds_the_margin_to_the_target_angle() {
        let mut head = ArcFaceConfig::new(2, 2).with_scale(64.0).with_margin(0.5).init::<B>(&Default::default());
        head.weight = axes([1.0, 1.0]);
        let logits = row(head.forward(feature(5.0, 30.0), target0()));
        assert_close(logits[0], 64.0 * (PI / 6.0 + 0.5).cos());
        assert_close(logits[1], 64.0 * (PI / 3.0).cos());
        // θ = 170°: θ + m > π, so the target falls back to cos θ − m sin m.
        let logits = row(head.forward(feature(5.0, 170.0), target0()));
        assert_close(logits[0], 64.0 * (170f32.to_radians().cos() - 0.5 * 0.5f32.sin()));
    }

    #[test]
    fn psi_is_the_papers_piecewise_function() {
        // m = 4, θ = 50°: mθ = 200°, k = 1, ψ = −cos 200° − 2.
        let cos = Tensor::<B, 1>::from_floats([50f32.to_radians().cos()], &Default::default());
        let v: Vec<f32> = psi(cos, 4).into_data().convert::<f32>().to_vec().unwrap();
        assert_close(v[0], -(200f32.to_radians().cos()) - 2.0);
        // Monotonically decreasing on [0, π] and never above cos θ (L-Softmax §3.1).
        let thetas: Vec<f32> = (0..=180).map(|d| (d as f32).to_radians()).collect();
        let cos = Tensor::<B, 1>::from_floats(
            thetas.iter().map(|t| t.cos()).collect::<Vec<_>>().as_slice(),
            &Default::default(),
        );
        let v: Vec<f32> = psi(cos, 3).into_data().convert::<f32>().to_vec().unwrap();
        for (i, w) in v.windows(2).enumerate() {
            assert!(w[1] <= w[0] + 1e-4, "not decreasing at {i}°: {w:?}");
        }
        for (p, t) in v.iter().zip(&thetas) {
            assert!(*p <= t.cos() + 1e-4);
        }
    }

    #[test]
    fn lsoftmax_blends_psi_with_the_plain_logit() {
        // ‖W_0‖ = 3, ‖x‖ = 2, θ = 120°, m = 2: mθ = 240°, k = 1, ψ = −cos 240° − 2 = −1.5;
        // λ = 1: (3·2·cos 120° + 3·2·(−1.5)) / 2 = −6.
        let mut head = LSoftmaxConfig::new(2, 2).with_margin(2).with_lambda(1.0).init::<B>(&Default::default());
        head.weight = axes([3.0, 0.5]);
        let logits = row(head.forward(feature(2.0, 120.0), target0()));
        assert_close(logits[0], -6.0);
        // The other class keeps ‖W_1‖‖x‖ cos θ_1 with θ_1 = 30°.
        assert_close(logits[1], 0.5 * 2.0 * 30f32.to_radians().cos());
    }

    #[test]
    fn sphereface_normalises_the_weights() {
        // ‖x‖ = 2, θ = 50°, m = 4: the target logit is ‖x‖ ψ(θ) whatever ‖W_0‖ is.
        let mut head = LSoftmaxConfig::sphereface(2, 2).init::<B>(&Default::default());
        head.weight = axes([7.0, 7.0]);
        let logits = row(head.forward(feature(2.0, 50.0), target0()));
        assert_close(logits[0], 2.0 * (-(200f32.to_radians().cos()) - 2.0));
        assert_close(logits[1], 2.0 * 40f32.to_radians().cos());
    }

    #[test]
    fn heads_score_without_the_margin_and_train_with_it() {
        // θ = 30° to class 0, 60° to class 1; evaluation scores carry no margin.
        let mut arc = ArcFaceConfig::new(2, 2).with_scale(10.0).with_margin(0.5).init::<B>(&Default::default());
        arc.weight = axes([1.0, 1.0]);
        let head = MarginHead::ArcFace(arc);
        let scores = row(head.scores(feature(3.0, 30.0)));
        assert_close(scores[0], 10.0 * 30f32.to_radians().cos());
        assert_close(scores[1], 10.0 * 60f32.to_radians().cos());
        let trained = row(head.forward(feature(3.0, 30.0), target0()));
        assert_close(trained[0], 10.0 * (PI / 6.0 + 0.5).cos());
        assert_eq!(head.classes(), 2);

        let mut cos = CosFaceConfig::new(2, 2).with_scale(10.0).with_margin(0.35).init::<B>(&Default::default());
        cos.weight = axes([2.0, 2.0]);
        let scores = row(MarginHead::CosFace(cos).scores(feature(3.0, 30.0)));
        assert_close(scores[1], 10.0 * 60f32.to_radians().cos());

        // SphereFace scores are ‖x‖ cos θ_j.
        let mut sphere = LSoftmaxConfig::sphereface(2, 2).init::<B>(&Default::default());
        sphere.weight = axes([7.0, 7.0]);
        let scores = row(MarginHead::LSoftmax(sphere).scores(feature(2.0, 50.0)));
        assert_close(scores[0], 2.0 * 50f32.to_radians().cos());
        assert_close(scores[1], 2.0 * 40f32.to_radians().cos());
    }

    #[test]
    fn the_softmax_head_is_a_plain_linear_layer() {
        use burn::nn::LinearConfig;
        let mut linear = LinearConfig::new(2, 3).init::<B>(&Default::default());
        linear.weight =
            Param::from_tensor(Tensor::from_floats([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]], &Default::default()));
        linear.bias = Some(Param::from_tensor(Tensor::from_floats([0.5, 0.0, 0.0], &Default::default())));
        let head = MarginHead::Softmax(linear);
        let x = Tensor::<B, 2>::from_floats([[2.0, 3.0]], &Default::default());
        // [2·1 + 0.5, 3·1, 2·2 − 3] whether or not the target is given.
        assert_eq!(row(head.scores(x.clone())), vec![2.5, 3.0, 1.0]);
        assert_eq!(row(head.forward(x, target0())), vec![2.5, 3.0, 1.0]);
        assert_eq!(head.classes(), 3);
    }
}

#[test]
fn pixel_cross_entropy_is_burns_cross_entropy_over_the_counted_pixels() {
    let device = Default::default();
    // 2 images of 2×3 pixels, 4 classes; two pixels carry the ignore label 255.
    let logits: Vec<f32> = (0..2 * 4 * 2 * 3).map(|i| ((i * 37 % 17) as f32 - 8.0) / 3.0).collect();
    let logits = Tensor::<B, 4>::from_data(TensorData::new(logits, [2, 4, 2, 3]), &device);
    let labels = [0i64, 3, 255, 1, 2, 2, 1, 255, 0, 3, 3, 1];
    let targets = Tensor::<B, 3, Int>::from_data(TensorData::new(labels.to_vec(), [2, 2, 3]), &device);
    let got: f32 = pixel_cross_entropy(logits.clone(), targets.clone(), Some(255)).into_scalar();
    // The reference: Burn's CrossEntropyLoss on the 10 counted pixels as rows [10, 4].
    let rows = logits.permute([0, 2, 3, 1]).reshape([12, 4]);
    let keep: Vec<i64> = labels.iter().enumerate().filter(|(_, &l)| l != 255).map(|(i, _)| i as i64).collect();
    let kept = rows.select(0, Tensor::<B, 1, Int>::from_data(TensorData::new(keep, [10]), &device));
    let kept_labels: Vec<i64> = labels.iter().copied().filter(|&l| l != 255).collect();
    let reference: f32 = CrossEntropyConfig::new()
        .init(&device)
        .forward(kept, Tensor::from_data(TensorData::new(kept_labels, [10]), &device))
        .into_scalar();
    assert_close(got, reference);
    // Without an ignore index every label must be a class; all-equal scores give ln K.
    let flat = Tensor::<B, 4>::zeros([1, 4, 2, 2], &device);
    let classes = Tensor::<B, 3, Int>::from_data(TensorData::new(vec![0i64, 1, 2, 3], [1, 2, 2]), &device);
    assert_close(pixel_cross_entropy(flat, classes, None).into_scalar(), 4f32.ln());
}

#[test]
fn pixel_soft_dice_averages_the_classes_dice_worked_by_hand() {
    let device = Default::default();
    // 1 image, 1×4 pixels, 2 classes; logits ±large make the softmax one-hot: predictions 0, 0, 1, 1.
    let big = 30.0f32;
    let logits = Tensor::<B, 4>::from_floats([[[[big, big, -big, -big]], [[-big, -big, big, big]]]], &device);
    let targets = Tensor::<B, 3, Int>::from_ints([[[0, 1, 1, 255]]], &device);
    // Ignoring the last pixel: class 0 predicted {0, 1}, true {0}: Dice 2·1/(2+1) = 2/3;
    // class 1 predicted {2}, true {1, 2}: Dice 2·1/(1+2) = 2/3. Loss 1 − 2/3.
    let loss: f32 = pixel_soft_dice(logits, targets, Some(255)).into_scalar();
    assert_close(loss, 1.0 / 3.0);
}
