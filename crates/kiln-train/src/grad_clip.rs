//! Clipping by the global gradient norm, as `torch.nn.utils.clip_grad_norm_` (Pascanu et al.
//! 2013): every gradient scaled by `min(1, max_norm / ‖g‖)`, with `‖g‖` the norm of all of
//! them together. kiln's own because Burn's `GradientClipping::Norm` clips each parameter by
//! its own norm, which changes the direction of the step; the factor stays on the device, so
//! clipping never waits for the host.

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;

/// `grads` of `module` scaled so that their global L2 norm is at most `max_norm`.
pub fn clip_global_norm<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    grads: GradientsParams,
    max_norm: f64,
) -> GradientsParams {
    let mut squares = SumOfSquares::<B> { grads: &grads, total: None };
    module.visit(&mut squares);
    let Some(total) = squares.total else { return grads };
    let factor = total.sqrt().add_scalar(1e-6).recip().mul_scalar(max_norm).clamp_max(1.0);
    let mut scale = Scale::<B> { grads, factor };
    module.visit(&mut scale);
    scale.grads
}

struct SumOfSquares<'a, B: AutodiffBackend> {
    grads: &'a GradientsParams,
    total: Option<Tensor<B::InnerBackend, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for SumOfSquares<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.get::<B::InnerBackend, D>(param.id) {
            let sum = grad.powi_scalar(2).sum();
            self.total = Some(match self.total.take() {
                Some(total) => total + sum,
                None => sum,
            });
        }
    }
}

struct Scale<B: AutodiffBackend> {
    grads: GradientsParams,
    factor: Tensor<B::InnerBackend, 1>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Scale<B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(grad) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            let factor = self.factor.clone().reshape([1; D]);
            self.grads.register::<B::InnerBackend, D>(param.id, grad * factor);
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::{Autodiff, NdArray};
    use burn::nn::{Linear, LinearConfig};

    use super::*;

    type A = Autodiff<NdArray>;

    fn grads_of(model: &Linear<A>, x: [[f32; 2]; 1]) -> GradientsParams {
        let x = Tensor::<A, 2>::from_floats(x, &Default::default());
        GradientsParams::from_grads(model.forward(x).sum().backward(), model)
    }

    fn values(model: &Linear<A>, grads: &GradientsParams) -> Vec<f32> {
        let w = grads.get::<NdArray, 2>(model.weight.id).unwrap().into_data().to_vec::<f32>().unwrap();
        let b = grads.get::<NdArray, 1>(model.bias.as_ref().unwrap().id).unwrap().into_data().to_vec::<f32>().unwrap();
        [w, b].concat()
    }

    #[test]
    fn scales_all_gradients_by_one_factor_from_their_joint_norm() {
        let device = Default::default();
        let model = LinearConfig::new(2, 1).init::<A>(&device);
        // d(sum(xW + b))/dW = xᵀ = (3, 4), d/db = 1: the joint norm is √26.
        let grads = grads_of(&model, [[3.0, 4.0]]);
        let clipped = values(&model, &clip_global_norm(&model, grads, 1.0));
        let norm = 26f32.sqrt();
        let want = [3.0 / norm, 4.0 / norm, 1.0 / norm];
        assert!(clipped.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-5), "{clipped:?}");
        // Below the bound nothing changes.
        let grads = grads_of(&model, [[3.0, 4.0]]);
        let kept = values(&model, &clip_global_norm(&model, grads, 10.0));
        assert!(kept.iter().zip([3.0, 4.0, 1.0]).all(|(a, b)| (a - b).abs() < 1e-5), "{kept:?}");
    }
}
