//! Dilated, pyramid and detection blocks against hand-worked numbers and independent references.

use burn::backend::{Autodiff, NdArray};
use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::prelude::*;
use kiln_vision::blocks::*;
use kiln_vision::complexity::{trainable_parameters, Traceable};
use kiln_vision::receptive_field::receptive_field;
use kiln_vision::ShapeTrace;

type B = NdArray;
type A = Autodiff<NdArray>;

fn values<const D: usize>(x: Tensor<B, D>) -> Vec<f32> {
    // `convert`: f64 tests elsewhere in this binary can change the device's default float type.
    x.into_data().convert::<f32>().to_vec().unwrap()
}

fn tensor<const D: usize>(data: Vec<f32>, shape: [usize; D]) -> Tensor<B, D> {
    Tensor::from_data(TensorData::new(data, shape), &Default::default())
}

/// Deterministic values in [-0.5, 0.5) that are not smooth in any direction.
fn scrambled<const D: usize>(shape: [usize; D], seed: usize) -> Tensor<B, D> {
    let n = shape.iter().product::<usize>();
    tensor((0..n).map(|i| ((i * 7919 + seed * 104_729) % 113) as f32 / 113.0 - 0.5).collect(), shape)
}

fn assert_close<const D: usize>(got: Tensor<B, D>, want: Tensor<B, D>, tol: f32) {
    assert_eq!(got.dims(), want.dims());
    let (got, want) = (values(got), values(want));
    let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst <= tol, "max |difference| {worst} > {tol}");
}

/// A plain convolution with the given weight, bias and padding.
fn conv(weight: Tensor<B, 4>, bias: Option<Tensor<B, 1>>, padding: PaddingConfig2d) -> Conv2d<B> {
    let [c_out, c_in, kh, kw] = weight.dims();
    let mut conv = Conv2dConfig::new([c_in, c_out], [kh, kw])
        .with_padding(padding)
        .with_bias(bias.is_some())
        .init::<B>(&Default::default());
    conv.weight = Param::from_tensor(weight);
    conv.bias = bias.map(Param::from_tensor);
    conv
}

fn same() -> PaddingConfig2d {
    PaddingConfig2d::Explicit(1, 1, 1, 1)
}

/// (Δy, Δx) for every tap of a 3×3 kernel and every output pixel, one offset group per entry.
fn offsets(groups: &[(f32, f32)], [n, h, w]: [usize; 3]) -> Tensor<B, 4> {
    let mut data = Vec::new();
    for _ in 0..n {
        for &(dy, dx) in groups {
            for _tap in 0..9 {
                data.extend(std::iter::repeat_n(dy, h * w));
                data.extend(std::iter::repeat_n(dx, h * w));
            }
        }
    }
    tensor(data, [n, 2 * 9 * groups.len(), h, w])
}

mod deformable {
    use super::*;

    const SHAPE: [usize; 4] = [2, 3, 6, 7];

    fn plain_twin(dcn: &DeformableConv<B>, padding: PaddingConfig2d) -> Conv2d<B> {
        conv(dcn.conv.weight.val(), dcn.conv.bias.as_ref().map(|b| b.val()), padding)
    }

    #[test]
    fn v1_with_zero_offsets_is_a_plain_convolution() {
        let dcn = DeformableConvConfig::new(3, 4).init::<B>(&Default::default());
        let x = scrambled(SHAPE, 1);
        let reference = plain_twin(&dcn, same()).forward(x.clone());
        let zero = Tensor::zeros([2, 18, 6, 7], &Default::default());
        assert_close(dcn.forward_with(x.clone(), zero, None), reference.clone(), 1e-5);
        // The offset predictor starts at zero, so the untrained block is that convolution too.
        assert_close(dcn.forward(x), reference, 1e-5);
    }

    #[test]
    fn v2_with_unit_masks_is_a_plain_convolution_and_starts_at_half_of_it() {
        let dcn = DeformableConvConfig::new(3, 4).with_modulated(true).init::<B>(&Default::default());
        let x = scrambled(SHAPE, 2);
        let reference = plain_twin(&dcn, same()).forward(x.clone());
        let device = Default::default();
        let (zero, ones) = (Tensor::zeros([2, 18, 6, 7], &device), Tensor::ones([2, 9, 6, 7], &device));
        assert_close(dcn.forward_with(x.clone(), zero, Some(ones)), reference.clone(), 1e-5);
        // Zero-initialised mask logits give sigmoid(0) = 1/2 on every tap: half the weighted sum,
        // the bias untouched.
        let bias = dcn.conv.bias.as_ref().unwrap().val().reshape([1, 4, 1, 1]);
        let half = (reference - bias.clone()).mul_scalar(0.5) + bias;
        assert_close(dcn.forward(x), half, 1e-5);
    }

    #[test]
    fn offset_of_one_row_down_convolves_the_input_shifted_up() {
        // Tap (ky, kx) of output (y, x) reads input row y − 1 + ky + Δy: with Δy = 1 it reads what
        // a plain 3×3 reads from an input moved up by one row.
        let dcn = DeformableConvConfig::new(3, 4).init::<B>(&Default::default());
        let x = scrambled(SHAPE, 3);
        let [n, c, h, w] = SHAPE;
        let got = dcn.forward_with(x.clone(), offsets(&[(1.0, 0.0)], [n, h, w]), None);
        // Shifted input: row r holds row r + 1, the last row zero-filled.
        let shifted =
            Tensor::cat(vec![x.clone().slice(s![.., .., 1.., ..]), Tensor::zeros([n, c, 1, w], &x.device())], 2);
        let plain = plain_twin(&dcn, same()).forward(shifted);
        // Output row 0's top taps read input row 0, where the shifted input has zero padding
        // instead, so rows 1.. agree with it ...
        assert_close(got.clone().slice(s![.., .., 1.., ..]), plain.slice(s![.., .., 1.., ..]), 1e-5);
        // ... and all rows agree with the plain convolution whose zero padding moved down a row:
        // no row above the input, two below.
        let moved = plain_twin(&dcn, PaddingConfig2d::Explicit(0, 1, 2, 1)).forward(x);
        assert_close(got, moved, 1e-5);
    }

    #[test]
    fn half_row_offset_interpolates_between_the_two_rows() {
        // Bilinear sampling at y + 1/2 averages rows y and y + 1, and the convolution is linear.
        let dcn = DeformableConvConfig::new(3, 4).init::<B>(&Default::default());
        let x = scrambled(SHAPE, 4);
        let [n, _, h, w] = SHAPE;
        let got = dcn.forward_with(x.clone(), offsets(&[(0.5, 0.0)], [n, h, w]), None);
        let at_0 = plain_twin(&dcn, same()).forward(x.clone());
        let at_1 = plain_twin(&dcn, PaddingConfig2d::Explicit(0, 1, 2, 1)).forward(x);
        assert_close(got, (at_0 + at_1).mul_scalar(0.5), 1e-5);
    }

    #[test]
    fn offset_groups_move_only_their_channels() {
        // Channels 0–1 (group 0) stay put; channels 2–3 (group 1) are read one column to the right.
        let dcn = DeformableConvConfig::new(4, 5).with_offset_groups(2).init::<B>(&Default::default());
        assert_eq!(dcn.offset.weight.dims(), [2 * 2 * 9, 4, 3, 3]);
        let x = scrambled([1, 4, 5, 6], 5);
        let got = dcn.forward_with(x.clone(), offsets(&[(0.0, 0.0), (0.0, 1.0)], [1, 5, 6]), None);
        let weight = dcn.conv.weight.val();
        let bias = dcn.conv.bias.as_ref().map(|b| b.val());
        let still = conv(weight.clone().slice(s![.., 0..2, .., ..]), bias, same());
        let moved = conv(weight.slice(s![.., 2..4, .., ..]), None, PaddingConfig2d::Explicit(1, 0, 1, 2));
        let want = still.forward(x.clone().slice(s![.., 0..2, .., ..])) + moved.forward(x.slice(s![.., 2..4, .., ..]));
        assert_close(got, want, 1e-5);
    }
}

/// kiln's gathered deformable convolution against Burn's `deform_conv2d`: the same function,
/// values and gradients, with offsets that move taps between pixels and off the input.
mod gathered_deform {
    use super::*;
    use burn::tensor::module::deform_conv2d;
    use burn::tensor::ops::DeformConvOptions;

    /// Offsets in (−2.6, 2.6), never whole numbers, so no sample sits on a pixel boundary where
    /// the bilinear factors' derivative jumps.
    fn fractional_offsets(shape: [usize; 4], seed: usize) -> Tensor<B, 4> {
        scrambled(shape, seed).mul_scalar(5.2).add_scalar(0.013)
    }

    fn check(stride: usize, padding: usize, dilation: usize, [h, w]: [usize; 2]) {
        let x = scrambled([2, 3, h, w], 11);
        let weight = scrambled([4, 3, 3, 3], 12);
        let bias = scrambled([4], 13);
        let [ho, wo] = [h, w].map(|d| (d + 2 * padding - dilation * 2 - 1) / stride + 1);
        let offset = fractional_offsets([2, 18, ho, wo], 14);
        let weights_out = scrambled([2, 4, ho, wo], 15);
        let leaf = |t: &Tensor<B, 4>| Tensor::<A, 4>::from_inner(t.clone()).require_grad();
        let run = |gathered: bool| {
            let (xa, oa, wa) = (leaf(&x), leaf(&offset), leaf(&weight));
            let ba = Tensor::<A, 1>::from_inner(bias.clone()).require_grad();
            let y = if gathered {
                gathered_deform_conv2d(
                    xa.clone(),
                    oa.clone(),
                    wa.clone(),
                    Some(ba.clone()),
                    DeformGeometry { stride, padding, dilation },
                )
            } else {
                let options = DeformConvOptions::new([stride; 2], [padding; 2], [dilation; 2], 1, 1);
                deform_conv2d(xa.clone(), oa.clone(), wa.clone(), None, Some(ba.clone()), options)
            };
            let grads = (y.clone() * Tensor::from_inner(weights_out.clone())).sum().backward();
            let g4 = |t: &Tensor<A, 4>| t.grad(&grads).unwrap();
            (y.inner(), g4(&xa), g4(&oa), g4(&wa), ba.grad(&grads).unwrap())
        };
        let (y, gx, go, gw, gb) = run(true);
        let (y_ref, gx_ref, go_ref, gw_ref, gb_ref) = run(false);
        assert_eq!(y.dims(), [2, 4, ho, wo]);
        assert_close(y, y_ref, 1e-5);
        assert_close(gx, gx_ref, 1e-4);
        assert_close(go, go_ref, 1e-4);
        assert_close(gw, gw_ref, 1e-4);
        let (gb, gb_ref) = (values(gb), values(gb_ref));
        assert!(gb.iter().zip(&gb_ref).all(|(a, b)| (a - b).abs() < 1e-4), "{gb:?} vs {gb_ref:?}");
    }

    #[test]
    fn equals_burns_deform_conv2d_in_values_and_gradients() {
        check(1, 1, 1, [6, 7]);
    }

    #[test]
    fn equals_burns_deform_conv2d_strided_dilated_and_unpadded() {
        check(2, 2, 2, [9, 8]);
        check(1, 0, 1, [5, 6]);
    }
}

mod spp {
    use super::*;

    #[test]
    fn output_length_is_independent_of_the_input_size() {
        let spp = SpatialPyramidPoolingConfig::new().init();
        assert_eq!(spp.output_len(5), 5 * (1 + 4 + 16));
        for [h, w] in [[13, 13], [20, 27], [32, 32], [4, 4]] {
            let y = spp.forward(scrambled([2, 5, h, w], h));
            assert_eq!(y.dims(), [2, 105], "{h}×{w}");
        }
    }

    #[test]
    fn bins_hold_the_maxima_worked_by_hand() {
        #[rustfmt::skip]
        let x = tensor(vec![
             3.0,  9.0,  1.0,  4.0,
             7.0,  2.0, 16.0,  5.0,
            11.0,  6.0,  8.0, 12.0,
             0.0, 15.0, 10.0, 13.0,
        ], [1, 1, 4, 4]);
        let y = values(SpatialPyramidPoolingConfig::new().init().forward(x.clone()));
        let mut want = vec![16.0]; // 1×1: the whole map
        want.extend([9.0, 16.0, 15.0, 13.0]); // 2×2: the quadrants, row by row
        want.extend(values(x)); // 4×4: every pixel is a bin
        assert_eq!(y, want);
    }

    #[test]
    fn bins_that_do_not_divide_the_map_overlap_like_pytorch() {
        // 3 rows into 2 bins: [⌊0⌋, ⌈1.5⌉) = rows 0–1 and [⌊1.5⌋, ⌈3⌉) = rows 1–2; the same for columns.
        let x = tensor(vec![1.0, 5.0, 2.0, 4.0, 3.0, 9.0, 8.0, 0.0, 6.0], [1, 1, 3, 3]);
        let y = values(SpatialPyramidPoolingConfig::new().with_bins(vec![2]).init().forward(x));
        assert_eq!(y, vec![5.0, 9.0, 8.0, 9.0]);
    }

    #[test]
    fn levels_are_flattened_channel_major() {
        // Channel 1 = channel 0 + 100: level 1 gives [c0, c1], level 2 gives c0's four bins then c1's.
        let c0 = vec![1.0, 2.0, 3.0, 4.0];
        let c1: Vec<f32> = c0.iter().map(|v| v + 100.0).collect();
        let x = tensor([c0, c1].concat(), [1, 2, 2, 2]);
        let y = values(SpatialPyramidPoolingConfig::new().with_bins(vec![1, 2]).init().forward(x));
        assert_eq!(y, vec![4.0, 104.0, 1.0, 2.0, 3.0, 4.0, 101.0, 102.0, 103.0, 104.0]);
    }
}

mod trident {
    use super::*;

    #[test]
    fn branches_share_one_bottlenecks_parameters() {
        // 16 → 4 → 16, BN γ and β after every conv: reduce 16·4 + 2·4, 3×3 4·4·9 + 2·4,
        // expand 4·16 + 2·16 = 320, however many branches.
        let device = Default::default();
        for dilations in [vec![1], vec![1, 2, 3]] {
            let block = TridentBlockConfig::new(16, 4, 16).with_dilations(dilations).init::<A>(&device);
            assert_eq!(trainable_parameters(&block), (64 + 8) + (144 + 8) + (64 + 32));
        }
        // A projection shortcut 8 → 16 adds 8·16 + 2·16.
        let block = TridentBlockConfig::new(8, 4, 16).init::<A>(&device);
        assert_eq!(trainable_parameters(&block), (32 + 8) + (144 + 8) + (64 + 32) + (128 + 32));
    }

    #[test]
    fn each_branch_is_the_bottleneck_at_its_dilation() {
        let block = TridentBlockConfig::new(8, 4, 12).init::<B>(&Default::default());
        let x = scrambled([2, 8, 9, 10], 6);
        let branches = block.forward(x.clone());
        assert_eq!(branches.len(), 3);
        for (branch, d) in branches.iter().zip([1, 2, 3]) {
            // The reference runs the shared bottleneck's own Conv2d modules, with the 3×3 dilated
            // and padded by d.
            let mut reference = block.bottleneck.clone();
            reference.conv.conv.dilation = [d, d];
            reference.conv.conv.padding = PaddingConfig2d::Explicit(d, d, d, d);
            assert_close(branch.clone(), reference.forward(x.clone()), 1e-5);
        }
        assert_close(branches[0].clone(), block.bottleneck.forward(x), 1e-5);
        let gap = values((branches[0].clone() - branches[2].clone()).abs().max());
        assert!(gap[0] > 1e-3, "dilation changes the output");
    }

    #[test]
    fn later_blocks_continue_each_branch() {
        let block = TridentBlockConfig::new(8, 4, 8).with_stride(2).init::<B>(&Default::default());
        let inputs: Vec<_> = (0..3).map(|i| scrambled([1, 8, 11, 11], 10 + i)).collect();
        let outputs = block.forward_branches(inputs.clone());
        for ((y, x), d) in outputs.into_iter().zip(inputs).zip([1, 2, 3]) {
            assert_eq!(y.dims(), [1, 8, 6, 6]);
            assert_close(y, block.forward_branch(x, d), 0.0);
        }
    }
}

mod aspp {
    use super::*;

    #[test]
    fn keeps_the_input_size() {
        let aspp = AsppConfig::new(8).with_out_channels(6).init::<B>(&Default::default());
        for [h, w] in [[17, 23], [5, 5]] {
            assert_eq!(aspp.forward(scrambled([2, 8, h, w], 7)).dims(), [2, 6, h, w]);
        }
    }

    #[test]
    fn every_rate_has_its_own_weights() {
        // 8 → 4 channels, BN γ and β after every conv: 1×1 8·4 + 8; three 3×3 at 8·4·9 + 8 each;
        // image pooling 8·4 + 8; projection of 5 concatenated branches 5·4·4 + 8.
        let aspp = AsppConfig::new(8).with_out_channels(4).init::<A>(&Default::default());
        assert_eq!(trainable_parameters(&aspp), 40 + 3 * 296 + 40 + 88);
        let dilations: Vec<_> = aspp.atrous.iter().map(|b| (b.conv.dilation, b.conv.padding.clone())).collect();
        let padding = |r| PaddingConfig2d::Explicit(r, r, r, r);
        assert_eq!(dilations, vec![([6, 6], padding(6)), ([12, 12], padding(12)), ([18, 18], padding(18))]);
    }
}

mod dilated {
    use super::*;

    #[test]
    fn keeps_resolution_and_grows_the_receptive_field_exponentially() {
        let stack = DilatedStackConfig::new(3, 8).init::<B>(&Default::default());
        assert_eq!(stack.forward(scrambled([1, 3, 19, 26], 8)).dims(), [1, 8, 19, 26]);
        // Yu & Koltun 2016: rates 1, 2, 4 see (2^(i+2) − 1): 3, 7, 15.
        let rf = receptive_field(&stack.receptive_field_layers());
        assert_eq!(rf.iter().map(|r| r.size).collect::<Vec<_>>(), vec![3, 7, 15]);
        assert!(rf.iter().all(|r| r.jump == 1 && r.start == 0.5), "same padding keeps the grid");
        // Undilated, the field grows linearly: 3, 5, 7.
        let plain = DilatedStackConfig::new(3, 8).with_dilations(vec![1, 1, 1]).init::<B>(&Default::default());
        let rf = receptive_field(&plain.receptive_field_layers());
        assert_eq!(rf.iter().map(|r| r.size).collect::<Vec<_>>(), vec![3, 5, 7]);
    }
}

mod fpn {
    use super::*;

    fn pyramid_sizes(fpn: &Fpn<B>, sizes: [usize; 4], channels: [usize; 4]) -> Vec<[usize; 4]> {
        let inputs = (0..4).map(|i| scrambled([2, channels[i], sizes[i], sizes[i]], i)).collect();
        fpn.forward(inputs).iter().map(|p| p.dims()).collect()
    }

    #[test]
    fn outputs_p2_to_p6_at_the_common_width() {
        let channels = [8, 16, 24, 32];
        let fpn = FpnConfig::new(channels.to_vec()).with_out_channels(12).init::<B>(&Default::default());
        let expect = |sizes: [usize; 5]| sizes.iter().map(|&s| [2, 12, s, s]).collect::<Vec<_>>();
        assert_eq!(pyramid_sizes(&fpn, [64, 32, 16, 8], channels), expect([64, 32, 16, 8, 4]));
        // Odd sizes: each stride-2 stage rounds up, and P6 = ⌈4 / 2⌉.
        assert_eq!(pyramid_sizes(&fpn, [25, 13, 7, 4], channels), expect([25, 13, 7, 4, 2]));
        assert_eq!(FpnConfig::new(vec![4]).init::<B>(&Default::default()).output[0].weight.dims(), [256, 256, 3, 3]);
    }

    /// One channel per level, laterals the identity (weight 1), output convs the identity
    /// (3×3 with a single centre 1), no biases: P_i is the top-down sum itself.
    fn identity_fpn() -> Fpn<B> {
        let mut fpn = FpnConfig::new(vec![1; 4]).with_out_channels(1).init::<B>(&Default::default());
        let zero = || Some(Param::from_tensor(Tensor::zeros([1], &Default::default())));
        for lateral in &mut fpn.lateral {
            lateral.weight = Param::from_tensor(Tensor::ones([1, 1, 1, 1], &Default::default()));
            lateral.bias = zero();
        }
        let centre = tensor(vec![0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0], [1, 1, 3, 3]);
        for output in &mut fpn.output {
            output.weight = Param::from_tensor(centre.clone());
            output.bias = zero();
        }
        fpn
    }

    #[test]
    fn top_down_pathway_adds_the_upsampled_coarser_level() {
        let fpn = identity_fpn();
        let device = Default::default();
        // C5 = 1, C4 = 10, C3 = 100, C2 = 1000 everywhere: P5 = 1, P4 = 11, P3 = 111, P2 = 1111.
        let levels = [(1000.0, 16), (100.0, 8), (10.0, 4), (1.0, 2)];
        let p = fpn.forward(levels.iter().map(|&(v, s)| Tensor::full([1, 1, s, s], v, &device)).collect());
        for (level, want) in p.into_iter().zip([1111.0, 111.0, 11.0, 1.0, 1.0]) {
            assert!(values(level).iter().all(|&v| v == want), "expected {want}");
        }
    }

    #[test]
    fn upsampling_is_nearest_to_the_laterals_exact_size() {
        let fpn = identity_fpn();
        let device = Default::default();
        let c5 = tensor(vec![1.0, 2.0, 3.0, 4.0], [1, 1, 2, 2]);
        let zeros = |s| Tensor::zeros([1, 1, s, s], &device);
        // Even: a 2×2 → 4×4 exact doubling. Odd: 2 → 3 takes source rows ⌊2·i/3⌋ = 0, 0, 1.
        let p = fpn.forward(vec![zeros(8), zeros(8), zeros(4), c5.clone()]);
        #[rustfmt::skip]
        let even = vec![1.0, 1.0, 2.0, 2.0,  1.0, 1.0, 2.0, 2.0,  3.0, 3.0, 4.0, 4.0,  3.0, 3.0, 4.0, 4.0];
        assert_eq!(values(p[2].clone()), even);
        let p = fpn.forward(vec![zeros(5), zeros(5), zeros(3), c5]);
        assert_eq!(values(p[2].clone()), vec![1.0, 1.0, 2.0, 1.0, 1.0, 2.0, 3.0, 3.0, 4.0]);
    }

    #[test]
    fn p6_subsamples_p5_by_two() {
        let fpn = FpnConfig::new(vec![3, 3, 3, 3]).with_out_channels(4).init::<B>(&Default::default());
        let p = fpn.forward((0..4).map(|i| scrambled([1, 3, 5 - i, 5 - i], i)).collect());
        let (p5, p6) = (values(p[3].clone()), values(p[4].clone()));
        // Sizes 5, 4, 3, 2: P5 is 2×2, so P6 is its top-left pixel.
        assert_eq!(p[3].dims(), [1, 4, 2, 2]);
        assert_eq!(p6, (0..4).map(|c| p5[c * 4]).collect::<Vec<_>>());
        let p = fpn.forward((0..4).map(|i| scrambled([1, 3, 32 >> i, 32 >> i], i)).collect());
        let (p5, p6) = (values(p[3].clone()), values(p[4].clone()));
        // 4×4 → pixels (0, 0), (0, 2), (2, 0), (2, 2).
        let want: Vec<_> = (0..4).flat_map(|c| [0, 2, 8, 10].map(|i| p5[c * 16 + i])).collect();
        assert_eq!(p6, want);
    }
}

mod ps_roi_pool {
    use super::*;

    /// `[1, channels, h, w]` where every pixel of channel t holds t.
    fn channel_index_maps(channels: usize, h: usize, w: usize) -> Tensor<B, 4> {
        tensor((0..channels).flat_map(|t| std::iter::repeat_n(t as f32, h * w)).collect(), [1, channels, h, w])
    }

    fn rois(rows: &[[f32; 5]]) -> Tensor<B, 2> {
        tensor(rows.concat(), [rows.len(), 5])
    }

    #[test]
    fn bin_ij_of_class_c_reads_its_own_score_map() {
        // k = 3, C = 2: 18 maps whose value is their index.
        let (k, classes) = (3, 2);
        let maps = channel_index_maps(k * k * classes, 9, 9);
        let roi = rois(&[[0.0, 0.0, 0.0, 9.0, 9.0], [0.0, 2.0, 1.0, 7.0, 8.0]]);
        for order in [ScoreMapOrder::BinMajor, ScoreMapOrder::ClassMajor] {
            let pool = PsRoiPoolConfig::new().with_output_size(k).with_spatial_scale(1.0).with_order(order).init();
            let y = pool.forward(maps.clone(), roi.clone());
            assert_eq!(y.dims(), [2, classes, k, k]);
            let mut want = Vec::new();
            for _roi in 0..2 {
                for c in 0..classes {
                    for i in 0..k {
                        for j in 0..k {
                            want.push(match order {
                                // R-FCN Fig. 1: one group of C maps per bin.
                                ScoreMapOrder::BinMajor => (i * k + j) * classes + c,
                                ScoreMapOrder::ClassMajor => (c * k + i) * k + j,
                            } as f32);
                        }
                    }
                }
            }
            assert_eq!(values(y), want, "{order:?}");
        }
    }

    /// `[1, 4, h, w]`, one class and k = 2: channel t holds 100·t + 10·y + x.
    fn position_maps(h: usize, w: usize) -> Tensor<B, 4> {
        let mut data = Vec::new();
        for t in 0..4 {
            for y in 0..h {
                data.extend((0..w).map(|x| (100 * t + 10 * y + x) as f32));
            }
        }
        tensor(data, [1, 4, h, w])
    }

    #[test]
    fn bins_average_their_pixels() {
        let pool = PsRoiPoolConfig::new().with_output_size(2).with_spatial_scale(1.0).init();
        // RoI x 1..5, y 2..6: bins rows {2, 3} | {4, 5}, columns {1, 2} | {3, 4}; the mean of
        // 10·y + x over rows {2, 3} and columns {1, 2} is 25 + 1.5.
        let y = pool.forward(position_maps(8, 8), rois(&[[0.0, 1.0, 2.0, 5.0, 6.0]]));
        assert_eq!(values(y), vec![26.5, 128.5, 246.5, 348.5]);
        // A 3-pixel RoI in 2 bins: rows [⌊0⌋, ⌈1.5⌉) = {0, 1} and [⌊1.5⌋, ⌈3⌉) = {1, 2}.
        let y = pool.forward(position_maps(8, 8), rois(&[[0.0, 0.0, 0.0, 3.0, 3.0]]));
        assert_eq!(values(y), vec![5.5, 100.0 + 5.0 + 1.5, 200.0 + 15.0 + 0.5, 300.0 + 15.0 + 1.5]);
    }

    #[test]
    fn spatial_scale_maps_image_pixels_to_the_score_map() {
        let pool = PsRoiPoolConfig::new().with_output_size(2).with_spatial_scale(0.5).init();
        let y = pool.forward(position_maps(8, 8), rois(&[[0.0, 2.0, 4.0, 10.0, 12.0]]));
        assert_eq!(values(y), vec![26.5, 128.5, 246.5, 348.5]);
    }

    #[test]
    fn bins_outside_the_map_are_zero() {
        // RoI 6..14 on an 8×8 map: the first bin of each axis is clipped to {6, 7}, the second empty.
        let pool = PsRoiPoolConfig::new().with_output_size(2).with_spatial_scale(1.0).init();
        let y = pool.forward(position_maps(8, 8), rois(&[[0.0, 6.0, 6.0, 14.0, 14.0]]));
        assert_eq!(values(y), vec![65.0 + 6.5, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn rois_read_their_own_image() {
        let maps = Tensor::cat(vec![position_maps(4, 4), position_maps(4, 4).add_scalar(1000.0)], 0);
        let pool = PsRoiPoolConfig::new().with_output_size(1).with_spatial_scale(1.0).init();
        // k = 1: C = 4 classes, each the mean of its map over rows {0, 1}, columns {0, 1}: 5.5 + 100·t.
        let y = pool.forward(maps, rois(&[[1.0, 0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 0.0, 2.0, 2.0]]));
        assert_eq!(y.dims(), [2, 4, 1, 1]);
        let image = |offset: f32| (0..4).map(move |t| 5.5 + 100.0 * t as f32 + offset);
        assert_eq!(values(y), image(1000.0).chain(image(0.0)).collect::<Vec<_>>());
    }
}

mod thundernet {
    use super::*;

    #[test]
    fn cem_merges_c4_and_c5_into_245_channels_at_c4s_size() {
        let cem = ContextEnhancementConfig::new(16, 32).init::<B>(&Default::default());
        let y = cem.forward(scrambled([2, 16, 20, 20], 1), scrambled([2, 32, 10, 10], 2));
        assert_eq!(y.dims(), [2, 5 * 7 * 7, 20, 20]);
    }

    #[test]
    fn cem_is_the_sum_of_local_upsampled_and_global_context() {
        // One channel each; C4 path weight 1, C5 path weight 2, global path weight 3 with bias 1.
        let device = Default::default();
        let mut cem = ContextEnhancementConfig::new(1, 1).with_out_channels(1).init::<B>(&device);
        let set = |conv: &mut Conv2d<B>, w: f32, b: f32| {
            conv.weight = Param::from_tensor(Tensor::full([1, 1, 1, 1], w, &device));
            conv.bias = Some(Param::from_tensor(Tensor::full([1], b, &device)));
        };
        set(&mut cem.c4, 1.0, 0.0);
        set(&mut cem.c5, 2.0, 0.0);
        set(&mut cem.global, 3.0, 1.0);
        let c4 = tensor((0..16).map(|i| i as f32).collect(), [1, 1, 4, 4]);
        let c5 = tensor(vec![1.0, 2.0, 3.0, 4.0], [1, 1, 2, 2]);
        // Global: 3 · mean(1, 2, 3, 4) + 1 = 8.5; upsampled C5 doubled: 2·[[1 1 2 2] [1 1 2 2] [3 3 4 4] ×2].
        let up = [1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 3.0, 3.0, 4.0, 4.0];
        let want: Vec<f32> = up.iter().enumerate().map(|(i, u)| i as f32 + 2.0 * u + 8.5).collect();
        assert_eq!(values(cem.forward(c4, c5)), want);
    }

    #[test]
    fn sam_with_a_zero_conv_halves_the_cem_features() {
        // θ(F_RPN) = BN(0) = 0 with fresh running statistics, and sigmoid(0) = 1/2.
        let device = Default::default();
        let mut sam = SpatialAttentionConfig::new().init::<B>(&device);
        sam.attention.conv.weight = Param::from_tensor(Tensor::zeros([245, 256, 1, 1], &device));
        assert!(sam.attention.conv.bias.is_none(), "batch norm's β is the bias");
        let cem = scrambled([2, 245, 20, 20], 3);
        let y = sam.forward(cem.clone(), scrambled([2, 256, 20, 20], 4));
        assert_eq!(y.dims(), [2, 245, 20, 20]);
        assert_eq!(values(y), values(cem.mul_scalar(0.5)));
    }

    #[test]
    fn sam_weights_each_pixel_by_the_sigmoid_of_the_rpn_response() {
        // One channel, conv weight 2: the gate is sigmoid(2·r / √(1 + ε)) with BN's fresh statistics.
        let device = Default::default();
        let mut sam = SpatialAttentionConfig::new().with_rpn_channels(1).with_out_channels(1).init::<B>(&device);
        sam.attention.conv.weight = Param::from_tensor(Tensor::full([1, 1, 1, 1], 2.0, &device));
        let rpn = [-1.0f32, 0.0, 0.5, 3.0];
        let y = values(sam.forward(Tensor::full([1, 1, 2, 2], 4.0, &device), tensor(rpn.to_vec(), [1, 1, 2, 2])));
        for (got, r) in y.into_iter().zip(rpn) {
            let gate = 1.0 / (1.0 + (-2.0 * r / (1.0f32 + 1e-5).sqrt()).exp());
            assert!((got - 4.0 * gate).abs() < 1e-5, "{got} vs {}", 4.0 * gate);
        }
    }
}

mod traces {
    use super::*;

    #[test]
    fn multiply_adds_count_every_branch() {
        let device = Default::default();
        let on = |shape| ShapeTrace::new(shape);
        // ASPP 8 → 4 on 10×10: 1×1 8·4·100, three 3×3 8·9·4·100, image pooling 8·4 on 1×1,
        // projection 20·4·100.
        let aspp = AsppConfig::new(8).with_out_channels(4).init::<B>(&device);
        let t = aspp.trace(on([8, 10, 10]));
        assert_eq!((t.shape, t.multiply_adds), ([4, 10, 10], 3_200 + 3 * 28_800 + 32 + 8_000));
        // Trident 16 → 4 → 16 on 8×8: one bottleneck 16·4·64 + 4·9·4·64 + 4·16·64 per branch.
        let trident = TridentBlockConfig::new(16, 4, 16).init::<B>(&device);
        let t = trident.trace(on([16, 8, 8]));
        assert_eq!((t.shape, t.multiply_adds), ([16, 8, 8], 3 * (4_096 + 9_216 + 4_096)));
        // Deformable 3 → 4 on 6×7: offsets 3·9·18·42, masks 3·9·9·42, the convolution 3·9·4·42.
        let dcn = DeformableConvConfig::new(3, 4).with_modulated(true).init::<B>(&device);
        let t = dcn.trace(on([3, 6, 7]));
        assert_eq!((t.shape, t.multiply_adds), ([4, 6, 7], 20_412 + 10_206 + 4_536));
        // Dilation keeps the cost of a 3×3: 3·9·8·100 + 2 · 8·9·8·100.
        let stack = DilatedStackConfig::new(3, 8).init::<B>(&device);
        let t = stack.trace(on([3, 10, 10]));
        assert_eq!((t.shape, t.multiply_adds), ([8, 10, 10], 21_600 + 2 * 57_600));
        let t = SpatialPyramidPoolingConfig::new().init().trace(on([5, 13, 13]));
        assert_eq!((t.shape, t.multiply_adds), ([105, 1, 1], 0));
    }
}
