//! Making model replicas that burn-collective can keep in step.
//!
//! burn-collective all-reduces gradients one parameter at a time in `ParamId` order, so every
//! replica on every node must give each parameter the same id, and every replica must start from
//! the same weights. Burn draws ids at random, so ids are renumbered in module order, and rank 0's
//! weights are copied to everyone before the first step.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;

use super::collective_peer::CollectivePeer;
use crate::error::Result;

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
/// 0's: rank 0 contributes its values, every other peer zeros, and the sum is exact.
pub fn copy_from_rank0<B, M>(model: M, peer: &CollectivePeer<B::InnerBackend>) -> Result<M>
where
    B: AutodiffBackend,
    M: Module<B>,
{
    // Keyed by position in module order, not by ParamId: running statistics keep Burn's random ids.
    struct Gather {
        values: GradientsParams,
        position: u64,
        root: bool,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for Gather {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            let value = param.val().inner();
            let value = if self.root { value } else { value.zeros_like() };
            self.values.register::<B::InnerBackend, D>(ParamId::from(self.position), value);
            self.position += 1;
        }
    }
    struct Scatter {
        values: GradientsParams,
        position: u64,
    }
    impl<B: AutodiffBackend> ModuleMapper<B> for Scatter {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
            let (id, old, mapper) = param.consume();
            let value = self
                .values
                .remove::<B::InnerBackend, D>(ParamId::from(self.position))
                .expect("the same module is visited and mapped in the same order");
            self.position += 1;
            let value = Tensor::from_inner(value);
            let value = if old.is_require_grad() { value.require_grad() } else { value };
            Param::from_mapped_value(id, value, mapper)
        }
    }
    let mut gather = Gather { values: GradientsParams::new(), position: 0, root: peer.rank() == 0 };
    model.visit(&mut gather);
    let values = peer.sum(gather.values)?;
    Ok(model.map(&mut Scatter { values, position: 0 }))
}
