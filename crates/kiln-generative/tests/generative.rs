//! kiln-generative against closed forms, hand-worked steps and diffusers' published numbers.

use burn::backend::NdArray;
use burn::prelude::*;

type B = NdArray;

#[path = "generative/diffusers.rs"]
mod diffusers;
#[path = "generative/gaussian.rs"]
mod gaussian;
#[path = "generative/guidance.rs"]
mod guidance;

#[test]
fn the_unet_reads_the_class_and_the_noise_level_and_keeps_the_image_shape() {
    use kiln_generative::network::UNetConfig;
    use kiln_generative::Network;
    let device = Default::default();
    let unet = UNetConfig::new()
        .with_channels(8)
        .with_channel_mults(vec![1, 2])
        .with_attention_heads(2)
        .with_classes(3)
        .init::<B>(&device);
    let x = Tensor::<B, 4>::random([2, 1, 8, 12], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
    let level = |v: f32| Tensor::<B, 1>::from_floats([v, v], &device);
    let class = |c: i64| Tensor::<B, 1, Int>::from_ints([c, c], &device);
    let out = |v, c| Network::forward(&unet, x.clone(), level(v), Some(class(c)));
    assert_eq!(out(0.1, 0).dims(), [2, 1, 8, 12]);
    let differ = |a: Tensor<B, 4>, b: Tensor<B, 4>| (a - b).abs().max().into_scalar() > 1e-6;
    assert!(differ(out(0.1, 0), out(0.1, 2)), "the class embedding reaches the output");
    assert!(differ(out(0.1, 3), out(0.1, 0)), "'no class' (index 3) is a class of its own");
    assert!(differ(out(0.1, 0), out(-0.5, 0)), "the noise level reaches the output");
    // Each example is denoised on its own: the first image's output does not depend on the second.
    let alone =
        Network::forward(&unet, x.clone().narrow(0, 0, 1), level(0.1).narrow(0, 0, 1), Some(class(1).narrow(0, 0, 1)));
    let together = out(0.1, 1).narrow(0, 0, 1);
    assert!((alone - together).abs().max().into_scalar() < 1e-5);
}
