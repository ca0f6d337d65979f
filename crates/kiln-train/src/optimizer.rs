//! The optimizer an experiment names, built from Burn's implementations.

use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{Adam, AdamConfig, AdamW, AdamWConfig, GradientsParams, Optimizer, Sgd, SgdConfig};
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::backend::AutodiffBackend;

use crate::config::{OptimSection, OptimizerName};
use crate::grad_clip::clip_global_norm;

/// An optimizer whose state (moments, momentum buffers) goes into checkpoints.
pub trait OptimizerState: Sized {
    type Device;
    fn state_bytes(&self) -> Result<Vec<u8>, String>;
    fn load_state_bytes(self, bytes: Vec<u8>, device: &Self::Device) -> Result<Self, String>;
}

/// One of the optimizers kiln configs can name, with its state, and `[optim] grad_clip`: the
/// bound on the global gradient norm ([`clip_global_norm`]).
pub struct AnyOptimizer<M: AutodiffModule<B>, B: AutodiffBackend> {
    optimizer: Named<M, B>,
    grad_clip: Option<f64>,
}

enum Named<M: AutodiffModule<B>, B: AutodiffBackend> {
    Sgd(OptimizerAdaptor<Sgd<B::InnerBackend>, M, B>),
    Adam(OptimizerAdaptor<Adam, M, B>),
    AdamW(OptimizerAdaptor<AdamW, M, B>),
}

type Bytes = BinBytesRecorder<FullPrecisionSettings>;

impl<M: AutodiffModule<B>, B: AutodiffBackend> AnyOptimizer<M, B> {
    pub fn new(c: &OptimSection) -> Self {
        let decay = (c.weight_decay > 0.0).then(|| WeightDecayConfig::new(c.weight_decay as f32));
        let optimizer = match c.name {
            OptimizerName::Sgd => {
                let momentum = (c.momentum > 0.0)
                    .then(|| MomentumConfig::new().with_momentum(c.momentum).with_nesterov(c.nesterov));
                Named::Sgd(SgdConfig::new().with_momentum(momentum).with_weight_decay(decay).init())
            }
            OptimizerName::Adam => Named::Adam(
                AdamConfig::new()
                    .with_beta_1(c.betas[0] as f32)
                    .with_beta_2(c.betas[1] as f32)
                    .with_epsilon(c.eps as f32)
                    .with_weight_decay(decay)
                    .init(),
            ),
            OptimizerName::Adamw => Named::AdamW(
                AdamWConfig::new()
                    .with_beta_1(c.betas[0] as f32)
                    .with_beta_2(c.betas[1] as f32)
                    .with_epsilon(c.eps as f32)
                    .with_weight_decay(c.weight_decay as f32)
                    .init(),
            ),
        };
        Self { optimizer, grad_clip: c.grad_clip }
    }

    pub fn step(&mut self, lr: f64, module: M, grads: GradientsParams) -> M {
        let grads = match self.grad_clip {
            Some(max_norm) => clip_global_norm(&module, grads, max_norm),
            None => grads,
        };
        match &mut self.optimizer {
            Named::Sgd(o) => o.step(lr, module, grads),
            Named::Adam(o) => o.step(lr, module, grads),
            Named::AdamW(o) => o.step(lr, module, grads),
        }
    }
}

impl<M: AutodiffModule<B>, B: AutodiffBackend> OptimizerState for AnyOptimizer<M, B> {
    type Device = B::Device;

    fn state_bytes(&self) -> Result<Vec<u8>, String> {
        let r = Bytes::default();
        match &self.optimizer {
            Named::Sgd(o) => Recorder::<B>::record(&r, o.to_record(), ()),
            Named::Adam(o) => Recorder::<B>::record(&r, o.to_record(), ()),
            Named::AdamW(o) => Recorder::<B>::record(&r, o.to_record(), ()),
        }
        .map_err(|e| e.to_string())
    }

    fn load_state_bytes(self, bytes: Vec<u8>, device: &B::Device) -> Result<Self, String> {
        let r = Bytes::default();
        let optimizer = match self.optimizer {
            Named::Sgd(o) => {
                Named::Sgd(o.load_record(Recorder::<B>::load(&r, bytes, device).map_err(|e| e.to_string())?))
            }
            Named::Adam(o) => {
                Named::Adam(o.load_record(Recorder::<B>::load(&r, bytes, device).map_err(|e| e.to_string())?))
            }
            Named::AdamW(o) => {
                Named::AdamW(o.load_record(Recorder::<B>::load(&r, bytes, device).map_err(|e| e.to_string())?))
            }
        };
        Ok(Self { optimizer, grad_clip: self.grad_clip })
    }
}
