//! The models `[model] name` picks for `[task] name = "seq2seq"`; the other `[model]` keys go
//! on top of the variant's defaults, and `vocab_size` comes from the tokenizer.

use kiln_sequence::recurrent::CellKind;
use kiln_sequence::seq2seq::{RecurrentSeq2SeqConfig, TransformerSeq2SeqConfig};

use crate::config::{closest, overlay_config, ParamProblem};

/// A named sequence-to-sequence model.
pub struct Seq2SeqEntry {
    pub name: &'static str,
    pub summary: &'static str,
    /// The recurrent cell; `None` for the Transformer.
    pub kind: Option<CellKind>,
}

/// A seq2seq model's config, of whichever architecture its name picks.
#[derive(Debug, Clone)]
pub enum Seq2SeqConfig {
    Recurrent(RecurrentSeq2SeqConfig),
    Transformer(TransformerSeq2SeqConfig),
}

impl Seq2SeqConfig {
    /// The longest source or decoder input the model takes, if bounded.
    pub fn max_len(&self) -> Option<usize> {
        match self {
            Self::Recurrent(_) => None,
            Self::Transformer(c) => Some(c.max_len),
        }
    }
}

pub const SEQ2SEQ_MODELS: [Seq2SeqEntry; 3] = [
    Seq2SeqEntry {
        name: "transformer_seq2seq",
        summary: "encoder-decoder Transformer (Vaswani et al. 2017): cross-attention, shared tied embeddings",
        kind: None,
    },
    Seq2SeqEntry {
        name: "lstm_seq2seq",
        summary: "LSTM encoder-decoder (Sutskever et al. 2014) with dot-product attention (Luong et al. 2015)",
        kind: Some(CellKind::Lstm),
    },
    Seq2SeqEntry {
        name: "gru_seq2seq",
        summary: "GRU encoder-decoder (Cho et al. 2014) with dot-product attention (Luong et al. 2015)",
        kind: Some(CellKind::Gru),
    },
];

/// The config of `[model] name` with its keys on top, for a vocabulary of `vocab_size`.
pub fn config(name: &str, params: &toml::Table, vocab_size: usize) -> std::result::Result<Seq2SeqConfig, ParamProblem> {
    let entry = SEQ2SEQ_MODELS.iter().find(|m| m.name == name).ok_or_else(|| {
        let names: Vec<&str> = SEQ2SEQ_MODELS.iter().map(|m| m.name).collect();
        let hint = closest(name, names.iter().copied()).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
        ParamProblem {
            key: None,
            message: format!("unknown seq2seq model '{name}' (known: {}){hint}", names.join(", ")),
        }
    })?;
    if let Some(key) = ["vocab_size", "kind"].into_iter().find(|k| params.contains_key(*k)) {
        return Err(ParamProblem {
            key: Some(key.into()),
            message: format!(
                "'{key}' is not set in [model]: the model name gives the cell and the tokenizer the vocabulary"
            ),
        });
    }
    let problem = |message| ParamProblem { key: None, message: format!("[model] {name}: {message}") };
    Ok(match entry.kind {
        Some(kind) => {
            let config = overlay_config(RecurrentSeq2SeqConfig::new(kind, vocab_size), params, "model")?;
            config.check().map_err(problem)?;
            Seq2SeqConfig::Recurrent(config)
        }
        None => {
            let config = overlay_config(TransformerSeq2SeqConfig::new(vocab_size), params, "model")?;
            config.check().map_err(problem)?;
            Seq2SeqConfig::Transformer(config)
        }
    })
}
