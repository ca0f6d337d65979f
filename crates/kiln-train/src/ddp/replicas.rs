//! Making model replicas that burn-collective can keep in step.
//!
//! burn-collective all-reduces gradients one parameter at a time in `ParamId` order, so every
//! replica on every node must give each parameter the same id, and every replica must start from
//! the same weights. Burn draws ids at random, so ids are renumbered in module order, and rank 0's
//! weights are copied to everyone before the first step.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;

use crate::error::Result;
use crate::strategy::Reducer;

/// Gives the parameters of `model` the ids 0, 1, 2, … in module order: the same on every node.
pub fn number_parameters<B: Backend, M: Module<B>>(model: M) -> M {
    struct Numbering(u64);
    impl<B: Backend> ModuleMapper<B> for Numbering {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
            let (_, tensor, mapper) = param.consume();
            self.0 += 1;
            Param::from_mapped_value(ParamId::from(self.0 - 1), tensor, mapper)
        }
    }
    model.map(&mut Numbering(0))
}

/// Replaces every float tensor of `model` (parameters and running statistics) by global rank
/// 0's: rank 0 contributes its values, every other peer zeros, and the sum is exact. All tensors
/// travel flattened in one vector, in module order.
pub fn copy_from_rank0<B, M>(model: M, reducer: &dyn Reducer<B::InnerBackend>) -> Result<M>
where
    B: AutodiffBackend,
    M: Module<B>,
{
    struct Gather<B: AutodiffBackend> {
        values: Vec<Tensor<B::InnerBackend, 1>>,
        root: bool,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for Gather<B> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            let value = param.val().inner().flatten::<1>(0, D - 1);
            self.values.push(if self.root { value } else { value.zeros_like() });
        }
    }
    struct Scatter<B: AutodiffBackend> {
        values: Tensor<B::InnerBackend, 1>,
        offset: usize,
    }
    impl<B: AutodiffBackend> ModuleMapper<B> for Scatter<B> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
            let (id, old, mapper) = param.consume();
            let shape = old.shape();
            let n = shape.num_elements();
            let value = self.values.clone().slice(self.offset..self.offset + n).reshape(shape);
            self.offset += n;
            let value = Tensor::from_inner(value);
            let value = if old.is_require_grad() { value.require_grad() } else { value };
            Param::from_mapped_value(id, value, mapper)
        }
    }
    let mut gather = Gather::<B> { values: Vec::new(), root: reducer.rank() == 0 };
    model.visit(&mut gather);
    if gather.values.is_empty() {
        return Ok(model);
    }
    let values = reducer.sum(Tensor::cat(gather.values, 0))?;
    Ok(model.map(&mut Scatter::<B> { values, offset: 0 }))
}
