//! The optimizer an experiment names, built from Burn's implementations.

use burn::grad_clipping::GradientClippingConfig;
use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{Adam, AdamConfig, AdamW, AdamWConfig, GradientsParams, Optimizer, Sgd, SgdConfig};
use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
use burn::tensor::backend::AutodiffBackend;

use crate::config::{OptimSection, OptimizerName};

/// An optimizer whose state (moments, momentum buffers) goes into checkpoints.
pub trait OptimizerState: Sized {
    type Device;
    fn state_bytes(&self) -> Result<Vec<u8>, String>;
    fn load_state_bytes(self, bytes: Vec<u8>, device: &Self::Device) -> Result<Self, String>;
}

/// One of the optimizers kiln configs can name, with its state.
pub enum AnyOptimizer<M: AutodiffModule<B>, B: AutodiffBackend> {
    Sgd(OptimizerAdaptor<Sgd<B::InnerBackend>, M, B>),
    Adam(OptimizerAdaptor<Adam, M, B>),
    AdamW(OptimizerAdaptor<AdamW, M, B>),
}

type Bytes = BinBytesRecorder<FullPrecisionSettings>;

impl<M: AutodiffModule<B>, B: AutodiffBackend> AnyOptimizer<M, B> {
    pub fn new(c: &OptimSection) -> Self {
        let clip = c.grad_clip.map(|n| GradientClippingConfig::Norm(n as f32));
        let decay = (c.weight_decay > 0.0).then(|| WeightDecayConfig::new(c.weight_decay as f32));
        match c.name {
            OptimizerName::Sgd => {
                let momentum = (c.momentum > 0.0)
                    .then(|| MomentumConfig::new().with_momentum(c.momentum).with_nesterov(c.nesterov));
                AnyOptimizer::Sgd(
                    SgdConfig::new()
                        .with_momentum(momentum)
                        .with_weight_decay(decay)
                        .with_gradient_clipping(clip)
                        .init(),
                )
            }
            OptimizerName::Adam => AnyOptimizer::Adam(
                AdamConfig::new()
                    .with_beta_1(c.betas[0] as f32)
                    .with_beta_2(c.betas[1] as f32)
                    .with_epsilon(c.eps as f32)
                    .with_weight_decay(decay)
                    .with_grad_clipping(clip)
                    .init(),
            ),
            OptimizerName::Adamw => AnyOptimizer::AdamW(
                AdamWConfig::new()
                    .with_beta_1(c.betas[0] as f32)
                    .with_beta_2(c.betas[1] as f32)
                    .with_epsilon(c.eps as f32)
                    .with_weight_decay(c.weight_decay as f32)
                    .with_grad_clipping(clip)
                    .init(),
            ),
        }
    }

    pub fn step(&mut self, lr: f64, module: M, grads: GradientsParams) -> M {
        match self {
            AnyOptimizer::Sgd(o) => o.step(lr, module, grads),
            AnyOptimizer::Adam(o) => o.step(lr, module, grads),
            AnyOptimizer::AdamW(o) => o.step(lr, module, grads),
        }
    }
}

impl<M: AutodiffModule<B>, B: AutodiffBackend> OptimizerState for AnyOptimizer<M, B> {
    type Device = B::Device;

    fn state_bytes(&self) -> Result<Vec<u8>, String> {
        let r = Bytes::default();
        match self {
            AnyOptimizer::Sgd(o) => Recorder::<B>::record(&r, o.to_record(), ()),
            AnyOptimizer::Adam(o) => Recorder::<B>::record(&r, o.to_record(), ()),
            AnyOptimizer::AdamW(o) => Recorder::<B>::record(&r, o.to_record(), ()),
        }
        .map_err(|e| e.to_string())
    }

    fn load_state_bytes(self, bytes: Vec<u8>, device: &B::Device) -> Result<Self, String> {
        let r = Bytes::default();
        Ok(match self {
            AnyOptimizer::Sgd(o) => {
                AnyOptimizer::Sgd(o.load_record(Recorder::<B>::load(&r, bytes, device).map_err(|e| e.to_string())?))
            }
            AnyOptimizer::Adam(o) => {
                AnyOptimizer::Adam(o.load_record(Recorder::<B>::load(&r, bytes, device).map_err(|e| e.to_string())?))
            }
            AnyOptimizer::AdamW(o) => {
                AnyOptimizer::AdamW(o.load_record(Recorder::<B>::load(&r, bytes, device).map_err(|e| e.to_string())?))
            }
        })
    }
}
