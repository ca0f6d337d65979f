//! The networks `[model]` can name for a diffusion experiment (denoisers) and for the
//! noise-aware classifier of classifier guidance.

use kiln_generative::network::{MlpDenoiserConfig, NoisyClassifierConfig, UNetConfig};
use serde::{Deserialize, Serialize};

use crate::config::{closest, overlay_config, ParamProblem};

/// `[model] name`s, with what each is for.
pub const MODELS: [(&str, &str); 3] = [
    ("mlp_denoiser", "a residual MLP with a sinusoidal noise embedding, for points (hidden, blocks, embed_dim)"),
    (
        "unet",
        "a small UNet for images: residual blocks, noise and class embeddings, attention at the lowest resolution (channels, channel_mults, attention_heads, num_classes)",
    ),
    (
        "noisy_classifier",
        "the UNet's downsampling trunk with a pooled linear head, classifying noised images (task noisy_classification: channels, channel_mults, attention_heads)",
    ),
];

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
    check_name(name, "mlp_denoiser", "points")?;
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

/// Says whether `name` is a known denoiser, and the one the data takes.
fn check_name(name: &str, wanted: &str, data: &str) -> Result<(), ParamProblem> {
    if !MODELS.iter().any(|(n, _)| *n == name) {
        let names: Vec<&str> = MODELS.iter().map(|(n, _)| *n).collect();
        let hint = closest(name, names.iter().copied()).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
        return Err(ParamProblem {
            key: None,
            message: format!("unknown denoiser '{name}' (known: {}){hint}", names.join(", ")),
        });
    }
    if name != wanted {
        return Err(ParamProblem { key: None, message: format!("'{name}' does not take {data}; use '{wanted}'") });
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UNetParams {
    channels: usize,
    channel_mults: Vec<usize>,
    attention_heads: usize,
    /// 0: unconditional; else the dataset's classes, embedded (and one "no class").
    num_classes: usize,
}

/// The UNet `[model]` describes for images of `[C, H, W]` with `classes` classes.
pub fn unet_config(
    name: &str,
    params: &toml::Table,
    shape: [usize; 3],
    classes: usize,
) -> Result<UNetConfig, ParamProblem> {
    check_name(name, "unet", "images")?;
    let p = overlay_config(
        UNetParams { channels: 32, channel_mults: vec![1, 2, 2], attention_heads: 4, num_classes: 0 },
        params,
        "model",
    )?;
    let problem = |key: &str, message: String| ParamProblem { key: Some(key.into()), message };
    check_trunk(p.channels, &p.channel_mults, shape)?;
    let config = UNetConfig::new()
        .with_image_channels(shape[0])
        .with_channels(p.channels)
        .with_channel_mults(p.channel_mults.clone())
        .with_attention_heads(p.attention_heads)
        .with_classes(p.num_classes);
    if p.attention_heads > 0 {
        let lowest = p.channels * p.channel_mults[p.channel_mults.len() - 1];
        // The up path's lowest level attends over the width of the level above it.
        let above = match p.channel_mults.len() {
            1 => p.channels,
            n => p.channels * p.channel_mults[n - 2],
        };
        if let Some(w) = [lowest, above].into_iter().find(|w| w % p.attention_heads != 0) {
            return Err(problem(
                "attention_heads",
                format!("attention_heads must divide the {w} channels attended over, not {}", p.attention_heads),
            ));
        }
    }
    if p.num_classes != 0 && p.num_classes != classes {
        return Err(problem(
            "num_classes",
            format!("num_classes is 0 (unconditional) or the data's {classes} classes, not {}", p.num_classes),
        ));
    }
    Ok(config)
}

/// The checks a downsampling trunk of `channel_mults.len()` resolutions makes of its widths and
/// of the image sides it halves.
fn check_trunk(channels: usize, channel_mults: &[usize], shape: [usize; 3]) -> Result<(), ParamProblem> {
    let problem = |key: &str, message: String| ParamProblem { key: Some(key.into()), message };
    if channels == 0 || channels % 2 == 1 {
        return Err(problem("channels", format!("channels must be a positive even number, not {channels}")));
    }
    if channel_mults.is_empty() || channel_mults.contains(&0) {
        return Err(problem(
            "channel_mults",
            format!("channel_mults must be positive, one per resolution, not {channel_mults:?}"),
        ));
    }
    let multiple = 1 << (channel_mults.len() - 1);
    if shape[1] % multiple != 0 || shape[2] % multiple != 0 {
        return Err(problem(
            "channel_mults",
            format!(
                "{} resolutions halve the image {} times: its sides must be multiples of {multiple}, not {}×{}",
                channel_mults.len(),
                channel_mults.len() - 1,
                shape[1],
                shape[2]
            ),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassifierParams {
    channels: usize,
    channel_mults: Vec<usize>,
    attention_heads: usize,
}

/// The noise-aware classifier `[model]` describes for images of `[C, H, W]` in `classes` classes.
pub fn noisy_classifier_config(
    name: &str,
    params: &toml::Table,
    shape: [usize; 3],
    classes: usize,
) -> Result<NoisyClassifierConfig, ParamProblem> {
    check_name(name, "noisy_classifier", "a noisy_classification task")?;
    let p = overlay_config(
        ClassifierParams { channels: 16, channel_mults: vec![1, 2, 2], attention_heads: 4 },
        params,
        "model",
    )?;
    check_trunk(p.channels, &p.channel_mults, shape)?;
    let lowest = p.channels * p.channel_mults[p.channel_mults.len() - 1];
    if p.attention_heads > 0 && lowest % p.attention_heads != 0 {
        return Err(ParamProblem {
            key: Some("attention_heads".into()),
            message: format!(
                "attention_heads must divide the {lowest} channels attended over, not {}",
                p.attention_heads
            ),
        });
    }
    Ok(NoisyClassifierConfig::new(classes)
        .with_image_channels(shape[0])
        .with_channels(p.channels)
        .with_channel_mults(p.channel_mults)
        .with_attention_heads(p.attention_heads))
}
