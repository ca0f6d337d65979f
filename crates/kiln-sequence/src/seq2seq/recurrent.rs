//! A recurrent encoder–decoder (Sutskever et al. 2014): the encoder's final state starts the
//! decoder; with `attention`, each decoder output also attends to every encoder output by dot
//! product and the two are combined as `tanh(W_c [context; h])` (Luong et al. 2015, "global
//! attention", without input feeding so that training runs over all target steps at once).

use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::prelude::*;

use crate::config_check::check_sizes_and_dropout;
use burn::tensor::activation::softmax;

use super::Seq2SeqModel;
use crate::recurrent::{CellKind, RecurrentStack, RecurrentStackConfig, RecurrentState};

#[derive(Config, Debug)]
pub struct RecurrentSeq2SeqConfig {
    pub kind: CellKind,
    /// Source and target share one vocabulary (and one embedding).
    pub vocab_size: usize,
    #[config(default = 64)]
    pub embed_dim: usize,
    #[config(default = 256)]
    pub hidden: usize,
    #[config(default = 2)]
    pub layers: usize,
    /// On the embeddings, between layers and before the read-out.
    #[config(default = 0.0)]
    pub dropout: f64,
    #[config(default = true)]
    pub attention: bool,
}

impl RecurrentSeq2SeqConfig {
    pub fn check(&self) -> Result<(), String> {
        check_sizes_and_dropout(
            &[
                ("vocab_size", self.vocab_size),
                ("embed_dim", self.embed_dim),
                ("hidden", self.hidden),
                ("layers", self.layers),
            ],
            self.dropout,
        )
    }

    pub fn init<B: Backend>(&self, device: &B::Device) -> RecurrentSeq2Seq<B> {
        let stack = || {
            RecurrentStackConfig::new(self.kind, self.embed_dim, self.hidden)
                .with_layers(self.layers)
                .with_dropout(self.dropout)
                .init(device)
        };
        RecurrentSeq2Seq {
            embedding: EmbeddingConfig::new(self.vocab_size, self.embed_dim).init(device),
            encoder: stack(),
            decoder: stack(),
            combine: self
                .attention
                .then(|| LinearConfig::new(2 * self.hidden, self.hidden).with_bias(false).init(device)),
            dropout: DropoutConfig::new(self.dropout).init(),
            head: LinearConfig::new(self.hidden, self.vocab_size).init(device),
            vocab_size: self.vocab_size,
        }
    }
}

#[derive(Module, Debug)]
pub struct RecurrentSeq2Seq<B: Backend> {
    pub embedding: Embedding<B>,
    pub encoder: RecurrentStack<B>,
    pub decoder: RecurrentStack<B>,
    /// `W_c` of Luong et al.'s attentional hidden state; `None` without attention.
    pub combine: Option<Linear<B>>,
    pub dropout: Dropout,
    pub head: Linear<B>,
    pub vocab_size: usize,
}

/// The encoder's outputs `[batch, source, hidden]`, which steps are pads, and its state after
/// each source's last real step.
#[derive(Debug, Clone)]
pub struct RecurrentMemory<B: Backend> {
    pub outputs: Tensor<B, 3>,
    pub padding: Tensor<B, 2, Bool>,
    pub state: RecurrentState<B>,
}

impl<B: Backend> Seq2SeqModel<B> for RecurrentSeq2Seq<B> {
    type Memory = RecurrentMemory<B>;

    fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    fn encode(&self, source: Tensor<B, 2, Int>, padding: Tensor<B, 2, Bool>) -> RecurrentMemory<B> {
        let embedded = self.dropout.forward(self.embedding.forward(source));
        // The stack's mask holds each stream's state through its padding.
        let keep = padding.clone().bool_not().float();
        let (outputs, state) = self.encoder.forward_tensor(embedded, None, Some(keep));
        RecurrentMemory { outputs, padding, state }
    }

    fn decode(&self, memory: &RecurrentMemory<B>, target: Tensor<B, 2, Int>) -> Tensor<B, 3> {
        let embedded = self.dropout.forward(self.embedding.forward(target));
        let (hidden, _) = self.decoder.forward_tensor(embedded, Some(memory.state.clone()), None);
        let hidden = match &self.combine {
            None => hidden,
            Some(combine) => {
                let [batch, _, source] = [hidden.dims()[0], hidden.dims()[1], memory.outputs.dims()[1]];
                let scores = hidden.clone().matmul(memory.outputs.clone().swap_dims(1, 2));
                let scores = scores.mask_fill(memory.padding.clone().reshape([batch, 1, source]), -1.0e9);
                let context = softmax(scores, 2).matmul(memory.outputs.clone());
                combine.forward(Tensor::cat(vec![context, hidden], 2)).tanh()
            }
        };
        self.head.forward(self.dropout.forward(hidden))
    }
}
