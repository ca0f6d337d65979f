//! The segmentation networks `[model] name` can pick, with their configs' keys checked.

use burn::config::Config;
use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use kiln_vision::segmentation::{DeepLabConfig, FcnConfig, SemanticSegmenter};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::closest;
use crate::error::{KilnError, Result};
use crate::registry::{overlay_config, ParamProblem};

/// (name, summary) of each segmentation network.
pub const SEGMENTATION_MODELS: [(&str, &str); 2] = [
    ("fcn", "FCN at output stride 8 (Long et al. 2015): stride-8 stem, plain 3×3 blocks, bilinear upsampling"),
    ("deeplab", "DeepLab at output stride 8 (Chen et al. 2017): stride-8 stem, dilated blocks, ASPP"),
];

/// Work to do with a segmentation network of whatever concrete type the name selects.
pub trait SegmenterJob<B: AutodiffBackend> {
    type Output;
    fn run<M>(self, model: M) -> Self::Output
    where
        M: AutodiffModule<B> + SemanticSegmenter<B> + 'static,
        M::InnerModule: SemanticSegmenter<B::InnerBackend>;
}

trait Validated: Config + Serialize + DeserializeOwned {
    fn check(&self) -> std::result::Result<(), String>;
}
impl Validated for FcnConfig {
    fn check(&self) -> std::result::Result<(), String> {
        self.validate().map_err(|e| e.to_string())
    }
}
impl Validated for DeepLabConfig {
    fn check(&self) -> std::result::Result<(), String> {
        self.validate().map_err(|e| e.to_string())
    }
}

fn configured<C: Validated>(defaults: C, params: &toml::Table) -> std::result::Result<C, ParamProblem> {
    let config = overlay_config(defaults, params, "model")?;
    config.check().map_err(|message| ParamProblem { key: None, message: format!("in [model]: {message}") })?;
    Ok(config)
}

fn unknown(name: &str) -> ParamProblem {
    let names = SEGMENTATION_MODELS.map(|(n, _)| n);
    let hint = closest(name, names).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
    ParamProblem {
        key: Some("name".into()),
        message: format!("unknown segmentation model '{name}' (registered: {}){hint}", names.join(", ")),
    }
}

/// Checks `params` against network `name`'s config without building it.
pub fn check_params(name: &str, params: &toml::Table) -> std::result::Result<(), ParamProblem> {
    match name {
        "fcn" => configured(FcnConfig::new(), params).map(drop),
        "deeplab" => configured(DeepLabConfig::new(), params).map(drop),
        other => Err(unknown(other)),
    }
}

/// Builds network `name` with `params` and runs `job` on it.
pub fn with_segmenter<B: AutodiffBackend, J: SegmenterJob<B>>(
    name: &str,
    params: &toml::Table,
    device: &B::Device,
    job: J,
) -> Result<J::Output> {
    let error = |p: ParamProblem| KilnError::ModelParams { model: name.into(), message: p.message };
    Ok(match name {
        "fcn" => job.run(configured(FcnConfig::new(), params).map_err(error)?.init::<B>(device)),
        "deeplab" => job.run(configured(DeepLabConfig::new(), params).map_err(error)?.init::<B>(device)),
        other => return Err(error(unknown(other))),
    })
}

/// Classes (background included) network `name` is configured for.
pub fn classes(name: &str, params: &toml::Table) -> Result<usize> {
    let error = |p: ParamProblem| KilnError::ModelParams { model: name.into(), message: p.message };
    match name {
        "fcn" => Ok(configured(FcnConfig::new(), params).map_err(error)?.num_classes),
        "deeplab" => Ok(configured(DeepLabConfig::new(), params).map_err(error)?.num_classes),
        other => Err(error(unknown(other))),
    }
}
