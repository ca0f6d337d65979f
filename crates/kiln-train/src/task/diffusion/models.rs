//! The denoising networks `[model]` can name for a diffusion experiment.

use kiln_generative::network::MlpDenoiserConfig;
use serde::{Deserialize, Serialize};

use crate::config::{closest, overlay_config, ParamProblem};

/// `[model] name`s, with what each is for.
pub const MODELS: [(&str, &str); 1] =
    [("mlp_denoiser", "a residual MLP with a sinusoidal noise embedding, for points (hidden, blocks, embed_dim)")];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MlpParams {
    hidden: usize,
    blocks: usize,
    embed_dim: usize,
}

/// The network `[model]` describes for points of `features` coordinates (and `classes` classes
/// for a class-conditional model, 0 otherwise).
pub fn mlp_config(
    name: &str,
    params: &toml::Table,
    features: usize,
    classes: usize,
) -> Result<MlpDenoiserConfig, ParamProblem> {
    if !MODELS.iter().any(|(n, _)| *n == name) {
        let names: Vec<&str> = MODELS.iter().map(|(n, _)| *n).collect();
        let hint = closest(name, names.iter().copied()).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
        return Err(ParamProblem {
            key: None,
            message: format!("unknown denoiser '{name}' (known: {}){hint}", names.join(", ")),
        });
    }
    let p = overlay_config(MlpParams { hidden: 256, blocks: 3, embed_dim: 64 }, params, "model")?;
    for (key, value) in [("hidden", p.hidden), ("blocks", p.blocks), ("embed_dim", p.embed_dim)] {
        if value == 0 || (key == "embed_dim" && value % 2 == 1) {
            return Err(ParamProblem {
                key: Some(key.into()),
                message: format!(
                    "{key} must be a positive{} number, not {value}",
                    if key == "embed_dim" { " even" } else { "" }
                ),
            });
        }
    }
    Ok(MlpDenoiserConfig::new(features)
        .with_hidden(p.hidden)
        .with_blocks(p.blocks)
        .with_embed_dim(p.embed_dim)
        .with_classes(classes))
}
