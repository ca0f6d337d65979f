//! Multi-head scaled dot-product attention (Vaswani et al. 2017, Sec. 3.2), causal or not, with an
//! optional padding mask and a cache of past keys and values.

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;

#[derive(Config, Debug)]
pub struct AttentionConfig {
    pub d_model: usize,
    pub heads: usize,
    /// On the attention weights.
    #[config(default = 0.0)]
    pub dropout: f64,
}

impl AttentionConfig {
    pub fn check(&self) -> Result<(), String> {
        if self.heads == 0 || self.d_model % self.heads != 0 {
            return Err(format!("d_model {} must be a multiple of heads {}", self.d_model, self.heads));
        }
        Ok(())
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> Attention<B> {
        let linear = || LinearConfig::new(self.d_model, self.d_model).init(device);
        Attention {
            query: linear(),
            key: linear(),
            value: linear(),
            output: linear(),
            dropout: DropoutConfig::new(self.dropout).init(),
            heads: self.heads,
        }
    }
}

#[derive(Module, Debug)]
pub struct Attention<B: Backend> {
    pub query: Linear<B>,
    pub key: Linear<B>,
    pub value: Linear<B>,
    pub output: Linear<B>,
    pub dropout: Dropout,
    pub heads: usize,
}

/// Keys and values of the positions seen so far, `[batch, heads, past, d_head]` each: a new
/// position attends to them without recomputing them.
#[derive(Debug, Clone)]
pub struct KvCache<B: Backend> {
    pub keys: Tensor<B, 4>,
    pub values: Tensor<B, 4>,
}

impl<B: Backend> KvCache<B> {
    /// Positions held.
    pub fn len(&self) -> usize {
        self.keys.dims()[2]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<B: Backend> Attention<B> {
    fn split_heads(&self, x: Tensor<B, 3>) -> Tensor<B, 4> {
        let [batch, steps, d_model] = x.dims();
        x.reshape([batch, steps, self.heads, d_model / self.heads]).swap_dims(1, 2)
    }

    /// Self-attention of `x` (`[batch, steps, d_model]`) after the positions in `cache`: step `i`
    /// attends to the cached positions and to steps `..=i`, never later ones, and to no position
    /// where `padding` (`[batch, past + steps]`, true for a pad) is set. Returns the output and
    /// the cache extended by these steps.
    pub fn forward(
        &self,
        x: Tensor<B, 3>,
        cache: Option<KvCache<B>>,
        padding: Option<Tensor<B, 2, Bool>>,
    ) -> (Tensor<B, 3>, KvCache<B>) {
        let mut keys = self.split_heads(self.key.forward(x.clone()));
        let mut values = self.split_heads(self.value.forward(x.clone()));
        let past = cache.as_ref().map_or(0, KvCache::len);
        if let Some(cache) = cache {
            keys = Tensor::cat(vec![cache.keys, keys], 2);
            values = Tensor::cat(vec![cache.values, values], 2);
        }
        let output = self.attend(x, keys.clone(), values.clone(), Some(past), padding);
        (output, KvCache { keys, values })
    }

    /// Attention of every step of `x` to every step of `x` but those `padding` (`[batch,
    /// steps]`) marks: the Transformer encoder's self-attention, which sees both ways.
    pub fn forward_bidirectional(&self, x: Tensor<B, 3>, padding: Option<Tensor<B, 2, Bool>>) -> Tensor<B, 3> {
        let keys = self.split_heads(self.key.forward(x.clone()));
        let values = self.split_heads(self.value.forward(x.clone()));
        self.attend(x, keys, values, None, padding)
    }

    /// Attention of the steps of `x` to those of `memory` (`[batch, source, d_model]`, the
    /// encoder's output) but where `memory_padding` (`[batch, source]`) marks a pad: the
    /// decoder's cross-attention (Vaswani et al. 2017, Sec. 3.2.3).
    pub fn forward_cross(
        &self,
        x: Tensor<B, 3>,
        memory: Tensor<B, 3>,
        memory_padding: Option<Tensor<B, 2, Bool>>,
    ) -> Tensor<B, 3> {
        let keys = self.split_heads(self.key.forward(memory.clone()));
        let values = self.split_heads(self.value.forward(memory));
        self.attend(x, keys, values, None, memory_padding)
    }

    /// `softmax(QKᵀ/√d_head)V` over heads, queries from `x`; with `causal_past = Some(past)`
    /// query `i` sits at position `past + i` and sees no key after it.
    fn attend(
        &self,
        x: Tensor<B, 3>,
        keys: Tensor<B, 4>,
        values: Tensor<B, 4>,
        causal_past: Option<usize>,
        padding: Option<Tensor<B, 2, Bool>>,
    ) -> Tensor<B, 3> {
        let [batch, steps, d_model] = x.dims();
        let device = x.device();
        let d_head = d_model / self.heads;
        let query = self.split_heads(self.query.forward(x));
        let total = keys.dims()[2];
        let mut scores = query.matmul(keys.swap_dims(2, 3)).div_scalar((d_head as f64).sqrt());
        // A large negative number rather than -inf: a row with every key masked (a query on a
        // pad) gives uniform weights instead of NaN.
        if let Some(past) = causal_past {
            let later: Vec<bool> = (0..steps).flat_map(|i| (0..total).map(move |j| j > past + i)).collect();
            let causal = Tensor::<B, 2, Bool>::from_data(TensorData::new(later, [steps, total]), &device);
            scores = scores.mask_fill(causal.reshape([1, 1, steps, total]), -1.0e9);
        }
        if let Some(padding) = padding {
            scores = scores.mask_fill(padding.reshape([batch, 1, 1, total]), -1.0e9);
        }
        let weights = self.dropout.forward(softmax(scores, 3));
        let mixed = weights.matmul(values).swap_dims(1, 2).reshape([batch, steps, d_model]);
        self.output.forward(mixed)
    }
}
