//! The language models `[model] name` picks for `[task] name = "language_model"`; the other
//! `[model]` keys go on top of the variant's defaults, and `vocab_size` comes from the tokenizer.

use kiln_sequence::language_model::{RecurrentLmConfig, TransformerLmConfig};
use kiln_sequence::recurrent::CellKind;

use crate::config::{closest, overlay_config, ParamProblem};

/// A named language model.
pub struct LanguageModelEntry {
    pub name: &'static str,
    pub summary: &'static str,
    /// The recurrent cell; `None` for the Transformer.
    pub kind: Option<CellKind>,
}

/// A language model's config, of whichever architecture its name picks.
#[derive(Debug, Clone)]
pub enum LanguageModelConfig {
    Recurrent(RecurrentLmConfig),
    Transformer(TransformerLmConfig),
}

impl LanguageModelConfig {
    /// The longest window the model takes, if bounded.
    pub fn max_len(&self) -> Option<usize> {
        match self {
            Self::Recurrent(_) => None,
            Self::Transformer(c) => Some(c.max_len),
        }
    }
}

pub const LANGUAGE_MODELS: [LanguageModelEntry; 4] = [
    LanguageModelEntry {
        name: "rnn_lm",
        summary: "Elman RNN language model (Mikolov et al. 2010): embedding, tanh recurrence, read-out",
        kind: Some(CellKind::Rnn),
    },
    LanguageModelEntry {
        name: "lstm_lm",
        summary: "LSTM language model (Zaremba et al. 2014): stacked LSTMs with dropout between layers",
        kind: Some(CellKind::Lstm),
    },
    LanguageModelEntry {
        name: "gru_lm",
        summary: "GRU language model (Cho et al. 2014 cells; Chung et al. 2014's comparison)",
        kind: Some(CellKind::Gru),
    },
    LanguageModelEntry {
        name: "transformer_lm",
        summary: "decoder-only Transformer (Vaswani et al. 2017 blocks, GPT-style): causal attention, tied read-out",
        kind: None,
    },
];

/// The config of `[model] name` with its keys on top, for a vocabulary of `vocab_size`.
pub fn config(
    name: &str,
    params: &toml::Table,
    vocab_size: usize,
) -> std::result::Result<LanguageModelConfig, ParamProblem> {
    let entry = LANGUAGE_MODELS.iter().find(|m| m.name == name).ok_or_else(|| {
        let names: Vec<&str> = LANGUAGE_MODELS.iter().map(|m| m.name).collect();
        let hint = closest(name, names.iter().copied()).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
        ParamProblem {
            key: None,
            message: format!("unknown language model '{name}' (known: {}){hint}", names.join(", ")),
        }
    })?;
    if params.contains_key("vocab_size") || params.contains_key("kind") {
        let key = if params.contains_key("kind") { "kind" } else { "vocab_size" };
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
            let config = overlay_config(RecurrentLmConfig::new(kind, vocab_size), params, "model")?;
            config.check().map_err(problem)?;
            LanguageModelConfig::Recurrent(config)
        }
        None => {
            let config = overlay_config(TransformerLmConfig::new(vocab_size), params, "model")?;
            config.check().map_err(problem)?;
            LanguageModelConfig::Transformer(config)
        }
    })
}
