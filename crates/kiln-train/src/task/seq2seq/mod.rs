//! Sequence to sequence: an encoder reads a source, a decoder writes the target token by token
//! (trained with teacher forcing on next-token cross-entropy), scored by token accuracy and by
//! exact match of what the decoder writes greedily; `kiln generate` answers a prompt.

pub mod data;
pub mod models;

use std::marker::PhantomData;

use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use kiln_losses::pixel_cross_entropy;
use kiln_sequence::generate::Sampling;
use kiln_sequence::seq2seq::{decode, Seq2SeqModel};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use data::{decode_ids, encode_text, BEGIN, END, PAD, SPECIALS};
pub use data::{EncodedPair, PairBatch, PairData};
use models::Seq2SeqConfig;

use super::tokenizer_file::{check_saved_tokenizer, check_tokenizer_keys, save_tokenizer};
use super::{BatchKey, EvalContext, GenerateRequest, SectionProblem, Split, StepContext, Task, TaskEntry, TaskJob};
use crate::checkpoint::{CheckpointReader, CheckpointWriter};
use crate::config::{closest, ExperimentConfig, OptimSection, ParamProblem};
use crate::error::{KilnError, Result};
use crate::figures::Figures;
use crate::optimizer::AnyOptimizer;
use crate::progress::Phase;

pub const ENTRY: TaskEntry = TaskEntry {
    name: "seq2seq",
    summary: "sequence to sequence on source<TAB>target pairs: teacher forcing, exact match, kiln generate",
    check,
};

/// Figures every evaluation reports besides `loss` (nats per target token).
pub const SEQ2SEQ_METRICS: [&str; 2] = ["token_accuracy", "exact_match"];

/// The prefix of the figures of `longer.tsv`, scored with the test split.
const LONGER: &str = "longer_";

fn check(cfg: &ExperimentConfig) -> std::result::Result<(), SectionProblem> {
    let at = |section, key: &str, message: String| {
        SectionProblem::new(section, ParamProblem { key: Some(key.into()), message })
    };
    let d = &cfg.data;
    data::check_dataset(&d.dataset).map_err(|m| at("data", "dataset", m))?;
    check_tokenizer_keys(d).map_err(|(key, message)| at("data", key, message))?;
    let refused = [
        (d.seq_len.is_some(), "seq_len", "a pair's lengths are its own; seq_len is for language_model windows"),
        (d.analogies.is_some(), "analogies", "analogies are scored by [task] name = \"word2vec\""),
        (d.augment_shift != 0, "augment_shift", "'augment_shift' is for images; seq2seq reads text pairs"),
        (!d.eval_sizes.is_empty(), "eval_sizes", "'eval_sizes' is for images; seq2seq reads text pairs"),
    ];
    if let Some((_, key, message)) = refused.into_iter().find(|(set, _, _)| *set) {
        return Err(at("data", key, message.into()));
    }
    models::config(&cfg.model.name, &cfg.model.params, SPECIALS + 1).map_err(|p| SectionProblem::new("model", p))?;
    let loss = &cfg.loss;
    if loss.name != "cross_entropy"
        || loss.label_smoothing != 0.0
        || loss.class_weights.is_some()
        || !loss.params.is_empty()
    {
        return Err(at(
            "loss",
            "name",
            "seq2seq trains on next-token cross-entropy over the target: [loss] name = \"cross_entropy\", no other keys"
                .into(),
        ));
    }
    for name in &cfg.metrics.names {
        if !SEQ2SEQ_METRICS.contains(&name.as_str()) {
            let hint = closest(name, SEQ2SEQ_METRICS).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
            return Err(at(
                "metrics",
                "names",
                format!("metric '{name}' is not one seq2seq computes ({}){hint}", SEQ2SEQ_METRICS.join(", ")),
            ));
        }
    }
    Ok(())
}

/// The seq2seq task of one experiment, for models of type `M`.
pub struct Seq2SeqTask<M> {
    data: PairData,
    optim: OptimSection,
    _model: PhantomData<fn() -> M>,
}

impl<M> Seq2SeqTask<M> {
    pub fn new(cfg: &ExperimentConfig, data: PairData) -> Self {
        Self { data, optim: cfg.optim.clone(), _model: PhantomData }
    }

    fn pairs(&self, split: Split) -> Option<&Vec<EncodedPair>> {
        match split {
            Split::Train => Some(&self.data.train),
            Split::Valid => self.data.valid.as_ref(),
            Split::Test => self.data.test.as_ref(),
        }
    }
}

/// The batch on `device`: source ids and padding, decoder inputs, and flattened outputs.
struct DeviceBatch<B: Backend> {
    source: Tensor<B, 2, Int>,
    padding: Tensor<B, 2, Bool>,
    input: Tensor<B, 2, Int>,
    output: Tensor<B, 1, Int>,
}

fn to_device<B: Backend>(batch: &PairBatch, device: &B::Device) -> DeviceBatch<B> {
    let (rows, s, t) = (batch.rows, batch.source_len, batch.target_len);
    DeviceBatch {
        source: Tensor::from_data(TensorData::new(batch.source.clone(), [rows, s]), device),
        padding: Tensor::from_data(TensorData::new(batch.source_padding.clone(), [rows, s]), device),
        input: Tensor::from_data(TensorData::new(batch.decoder_input.clone(), [rows, t]), device),
        output: Tensor::from_data(TensorData::new(batch.decoder_output.clone(), [rows * t]), device),
    }
}

/// Mean cross-entropy over the target tokens of `logits` `[rows, steps, vocab]`, padding skipped.
fn token_loss<B: Backend>(logits: Tensor<B, 3>, output: Tensor<B, 1, Int>) -> Tensor<B, 1> {
    let [rows, steps, vocab] = logits.dims();
    let n = rows * steps;
    pixel_cross_entropy(logits.reshape([n, vocab, 1, 1]), output.reshape([n, 1, 1]), Some(PAD))
}

/// The share of target tokens whose most likely prediction is right, padding skipped.
fn token_accuracy<B: Backend>(logits: Tensor<B, 3>, output: Tensor<B, 1, Int>, tokens: usize) -> Tensor<B, 1> {
    let [rows, steps, _] = logits.dims();
    let predicted = logits.argmax(2).reshape([rows * steps]);
    let counted = output.clone().not_equal_elem(PAD as i64).int();
    let right = predicted.equal(output).int().mul(counted);
    right.sum().float().div_scalar(tokens.max(1) as f64)
}

/// Loss and token accuracy (teacher forcing) and exact match (greedy decoding) of `pairs`;
/// figure names start with `prefix`.
fn score<B: Backend, M: Seq2SeqModel<B>>(
    model: &M,
    pairs: &[EncodedPair],
    phase: Phase,
    prefix: &str,
    ctx: &mut EvalContext<'_, B>,
) -> Result<Figures> {
    let device = ctx.device;
    let examples: Vec<usize> = (0..pairs.len()).collect();
    let (mut exact, mut seen) = (0usize, 0usize);
    let mut pass = ctx.begin(phase, examples.len());
    pass.run(
        &examples,
        |chunk| PairBatch::new(&chunk.iter().map(|&i| &pairs[i]).collect::<Vec<_>>()),
        |batch, meter| {
            let on = to_device::<B>(&batch, device);
            let memory = model.encode(on.source.clone(), on.padding.clone());
            let logits = model.decode(&memory, on.input);
            let tokens = batch.target_tokens();
            meter.add(&format!("{prefix}loss"), token_loss(logits.clone(), on.output.clone()), tokens);
            meter.add(&format!("{prefix}token_accuracy"), token_accuracy(logits, on.output, tokens), tokens);
            // A row still writing after its target's length plus the end token is wrong
            // already: decoding stops there.
            let written = decode(model, on.source, on.padding, BEGIN, END, batch.target_len, &Sampling::greedy(), 0);
            exact += written.iter().zip(&batch.targets).filter(|(w, t)| w == t).count();
            seen += batch.rows;
            Ok(())
        },
    )?;
    let mut host = Figures::new();
    host.insert(format!("{prefix}exact_match"), exact as f64 / seen.max(1) as f64);
    pass.end(host)
}

impl<B, M> Task<B> for Seq2SeqTask<M>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + Seq2SeqModel<B> + 'static,
    M::InnerModule: Seq2SeqModel<B::InnerBackend>,
{
    type Model = M;
    type Optimizers = AnyOptimizer<M, B>;
    type Batch = PairBatch;
    type Carry = ();

    fn optimizers(&self) -> Self::Optimizers {
        AnyOptimizer::new(&self.optim)
    }

    fn train_examples(&self) -> Vec<usize> {
        (0..self.data.train.len()).collect()
    }

    fn train_batch(&self, indices: &[usize], _key: BatchKey) -> PairBatch {
        PairBatch::new(&indices.iter().map(|&i| &self.data.train[i]).collect::<Vec<_>>())
    }

    fn train_step(
        &self,
        model: M,
        optimizers: &mut Self::Optimizers,
        batch: PairBatch,
        _carry: &mut (),
        ctx: &mut StepContext<'_, B>,
    ) -> Result<M> {
        let on = to_device::<B>(&batch, ctx.device);
        let logits = model.decode(&model.encode(on.source, on.padding), on.input);
        let tokens = batch.target_tokens();
        let loss = token_loss(logits.clone(), on.output.clone());
        ctx.record("loss", loss.clone(), tokens);
        ctx.record("token_accuracy", token_accuracy(logits.detach(), on.output, tokens), tokens);
        let grads = ctx.grads(loss, &model)?;
        Ok(optimizers.step(ctx.lr, model, grads))
    }

    fn has_split(&self, split: Split) -> bool {
        self.pairs(split).is_some()
    }

    fn evaluate(&self, model: &M, split: Split, ctx: &mut EvalContext<'_, B::InnerBackend>) -> Result<Figures> {
        let Some(pairs) = self.pairs(split) else { return Ok(Figures::new()) };
        let model = model.valid();
        let phase = split.phase();
        let mut figures = score(&model, pairs, phase, "", ctx)?;
        if let (Split::Test, Some(longer)) = (split, &self.data.longer) {
            figures.extend(score(&model, longer, phase, LONGER, ctx)?);
        }
        Ok(figures)
    }

    fn save(&self, model: &M, optimizers: &Self::Optimizers, out: &mut CheckpointWriter) -> Result<()> {
        save_tokenizer(&self.data.tokenizer, out)?;
        out.model_and_optimizer(model, optimizers)
    }

    fn load(
        &self,
        model: M,
        optimizers: Self::Optimizers,
        from: &CheckpointReader,
        device: &B::Device,
    ) -> Result<(M, Self::Optimizers)> {
        check_saved_tokenizer(&self.data.tokenizer, from)?;
        from.model_and_optimizer(model, optimizers, device)
    }

    fn synthetic_batch(&self, batch_size: usize, seed: u64) -> PairBatch {
        let mut rng = StdRng::seed_from_u64(seed);
        let vocab = self.data.vocab_size() as i64;
        let longest = self.data.longest().max(2);
        let pairs: Vec<EncodedPair> = (0..batch_size)
            .map(|_| {
                let mut draw = |n: usize| (0..n).map(|_| rng.random_range(SPECIALS as i64..vocab)).collect();
                EncodedPair { source: draw(longest), target: draw(longest - 1) }
            })
            .collect();
        PairBatch::new(&pairs.iter().collect::<Vec<_>>())
    }

    fn generate(
        &self,
        model: &M,
        request: &GenerateRequest,
        device: &B::Device,
        emit: &mut dyn FnMut(&str),
    ) -> Result<String> {
        if request.beam.is_some() {
            return Err(KilnError::Unsupported(
                "--beam is for language models; a seq2seq run decodes greedily or samples (--temperature)".into(),
            ));
        }
        let tokenizer = &self.data.tokenizer;
        let unknown = tokenizer.unknown_chars(&request.prompt);
        if !unknown.is_empty() {
            return Err(KilnError::Unsupported(format!(
                "the prompt has characters the training pairs never had ({unknown:?}); the model cannot read them"
            )));
        }
        let source = encode_text(tokenizer, &request.prompt)?;
        if source.is_empty() {
            return Err(KilnError::Unsupported("the prompt is empty: a seq2seq model needs a source to read".into()));
        }
        let model = model.valid();
        let n = source.len();
        let source = Tensor::<B::InnerBackend, 2, Int>::from_data(TensorData::new(source, [1, n]), device);
        let padding = Tensor::<B::InnerBackend, 2, Bool>::from_data(TensorData::new(vec![false; n], [1, n]), device);
        let written = decode(&model, source, padding, BEGIN, END, request.max_tokens, &request.sampling, request.seed);
        let text = decode_ids(tokenizer, &written[0]);
        emit(&text);
        Ok(text)
    }
}

/// Builds `[model]` for the tokenizer's vocabulary and hands it with the task to `job`.
pub(crate) fn assemble<B: AutodiffBackend, J: TaskJob<B>>(
    cfg: &ExperimentConfig,
    data: PairData,
    device: &B::Device,
    job: J,
) -> Result<J::Output> {
    let config = models::config(&cfg.model.name, &cfg.model.params, data.vocab_size())
        .map_err(|p| KilnError::ModelParams { model: cfg.model.name.clone(), message: p.message })?;
    if let Some(max_len) = config.max_len() {
        let longest = data.longest();
        if longest > max_len {
            return Err(KilnError::ModelParams {
                model: cfg.model.name.clone(),
                message: format!(
                    "the data has a sequence of {longest} tokens (a source, or a target with its begin token) but the model has positions for {max_len}: raise [model] max_len"
                ),
            });
        }
    }
    match config {
        Seq2SeqConfig::Recurrent(c) => job.run(Seq2SeqTask::new(cfg, data), c.init::<B>(device)),
        Seq2SeqConfig::Transformer(c) => job.run(Seq2SeqTask::new(cfg, data), c.init::<B>(device)),
    }
}
