//! An exponential moving average of a model's weights (Polyak & Juditsky 1992; the EMA copy
//! DDPM, EDM and timm's `ModelEmaV2` evaluate with): after every optimizer step,
//! `ema ← decay · ema + (1 − decay) · model`, over every float tensor (parameters and batch-norm
//! running statistics). A task keeps the copy in its model and calls this from
//! [`Task::after_step`](crate::task::Task::after_step).

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;

/// `decay · ema + (1 − decay) · model`, tensor by tensor; the copy stays out of every gradient.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::nn::LinearConfig;
/// use burn::prelude::*;
/// let device = Default::default();
/// let model = LinearConfig::new(2, 1).init::<NdArray>(&device);
/// let ema = model.clone().map(&mut kiln_train::ema::Zeroed);
/// // From zero, one update leaves (1 − 0.9) of the model's weights.
/// let ema = kiln_train::ema::ema_update(ema, &model, 0.9);
/// let (w, e) = (model.weight.val().into_data().to_vec::<f32>().unwrap(), ema.weight.val().into_data().to_vec::<f32>().unwrap());
/// assert!(w.iter().zip(&e).all(|(w, e)| (0.1 * w - e).abs() < 1e-6));
/// ```
pub fn ema_update<B: Backend, M: Module<B>>(ema: M, model: &M, decay: f64) -> M {
    struct Gather<B: Backend>(Vec<Tensor<B, 1>>);
    impl<B: Backend> ModuleVisitor<B> for Gather<B> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.0.push(param.val().detach().flatten::<1>(0, D - 1));
        }
    }
    struct Blend<B: Backend> {
        values: std::vec::IntoIter<Tensor<B, 1>>,
        decay: f64,
    }
    impl<B: Backend> ModuleMapper<B> for Blend<B> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
            let (id, old, mapper) = param.consume();
            let source = self.values.next().expect("the EMA copy has the model's structure").reshape(old.shape());
            let blended = old.detach().mul_scalar(self.decay) + source.mul_scalar(1.0 - self.decay);
            Param::from_mapped_value(id, blended, mapper)
        }
    }
    let mut gather = Gather(Vec::new());
    model.visit(&mut gather);
    ema.map(&mut Blend { values: gather.0.into_iter(), decay })
}

/// Sets every float tensor to zero (an EMA that starts from nothing, bias-corrected by the caller).
pub struct Zeroed;

impl<B: Backend> ModuleMapper<B> for Zeroed {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, old, mapper) = param.consume();
        Param::from_mapped_value(id, old.zeros_like(), mapper)
    }
}
