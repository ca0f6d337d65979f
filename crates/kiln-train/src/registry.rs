//! Models by name, like `timm.create_model`: each entry knows its config type and builds a
//! concrete network, which is handed to a task generic over the model type.

use burn::config::Config;
use burn::module::{AutodiffModule, ModuleDisplay};
use burn::tensor::backend::AutodiffBackend;
use kiln_vision::backbones::{
    EfficientNetConfig, GoogLeNetConfig, MobileNetV1Config, MobileNetV2Config, ResNetConfig, ShuffleNetV2Config,
    VitConfig,
};
use kiln_vision::{DilatedCnnConfig, ImageClassifier, LeNet5Config, MnistCnnConfig, SppNetConfig};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::closest;
use crate::error::{KilnError, Result};

/// What the registry says about a model without building it.
#[derive(Debug, Clone, Copy)]
pub struct ModelEntry {
    pub name: &'static str,
    pub summary: &'static str,
    /// `[C, H, W]` the model is meant for.
    pub default_input: [usize; 3],
    /// The model is built for one input size, set by its `image_size` key (ViT's position
    /// embeddings); the others take any size.
    pub fixed_size: bool,
}

const fn model(name: &'static str, summary: &'static str, default_input: [usize; 3]) -> ModelEntry {
    ModelEntry { name, summary, default_input, fixed_size: false }
}

const IMAGENET: [usize; 3] = [3, 224, 224];

pub const MODELS: &[ModelEntry] = &[
    model("lenet5", "LeNet-5, LeCun et al. 1998 (61,706 parameters for 10 classes)", [1, 28, 28]),
    model("mnist_cnn", "Two VGG-style conv-BN-ReLU stages, dropout classifier", [1, 28, 28]),
    model(
        "dilated_cnn",
        "Dilated 3×3 stack (Yu & Koltun 2016) + global pooling; dilations [1, 1, 1, 1] is the plain stack",
        [1, 28, 28],
    ),
    model("spp_net", "mnist_cnn with spatial pyramid pooling (He et al. 2014): any input size", [1, 28, 28]),
    model("resnet18", "ResNet-18, He et al. 2016 (11,689,512 parameters)", IMAGENET),
    model("resnet34", "ResNet-34, He et al. 2016 (21,797,672 parameters)", IMAGENET),
    model("resnet50", "ResNet-50 v1.5, He et al. 2016 (25,557,032 parameters)", IMAGENET),
    model("resnet101", "ResNet-101 v1.5, He et al. 2016", IMAGENET),
    model("resnet152", "ResNet-152 v1.5, He et al. 2016", IMAGENET),
    model(
        "googlenet",
        "GoogLeNet / Inception v1 with batch norm, Szegedy et al. 2015 (6,624,904 parameters)",
        IMAGENET,
    ),
    model(
        "mobilenet_v1",
        "MobileNetV1, Howard et al. 2017, width multiplier α (4,231,976 parameters at α = 1)",
        IMAGENET,
    ),
    model("mobilenet_v2", "MobileNetV2, Sandler et al. 2018 (3,504,872 parameters)", IMAGENET),
    model("shufflenet_v2_x0_5", "ShuffleNetV2 0.5×, Ma et al. 2018 (1,366,792 parameters)", IMAGENET),
    model("shufflenet_v2_x1_0", "ShuffleNetV2 1.0×, Ma et al. 2018 (2,278,604 parameters)", IMAGENET),
    model("shufflenet_v2_x1_5", "ShuffleNetV2 1.5×, Ma et al. 2018 (3,503,624 parameters)", IMAGENET),
    model("shufflenet_v2_x2_0", "ShuffleNetV2 2.0×, Ma et al. 2018 (7,393,996 parameters)", IMAGENET),
    model("snet49", "SNet49, ThunderNet's backbone, Qin et al. 2019", IMAGENET),
    model("snet146", "SNet146, ThunderNet's backbone, Qin et al. 2019", IMAGENET),
    model("snet535", "SNet535, ThunderNet's backbone, Qin et al. 2019", IMAGENET),
    model("efficientnet_b0", "EfficientNet-B0, Tan & Le 2019 (5,288,548 parameters)", IMAGENET),
    model("efficientnet_b1", "EfficientNet-B1, compound-scaled B0 (7,794,184 parameters)", [3, 240, 240]),
    model("efficientnet_b2", "EfficientNet-B2, compound-scaled B0 (9,109,994 parameters)", [3, 260, 260]),
    model("efficientnet_b3", "EfficientNet-B3, compound-scaled B0 (12,233,232 parameters)", [3, 300, 300]),
    model("efficientnet_b4", "EfficientNet-B4, compound-scaled B0 (19,341,616 parameters)", [3, 380, 380]),
    model("efficientnet_b5", "EfficientNet-B5, compound-scaled B0 (30,389,784 parameters)", [3, 456, 456]),
    model("efficientnet_b6", "EfficientNet-B6, compound-scaled B0 (43,040,704 parameters)", [3, 528, 528]),
    model("efficientnet_b7", "EfficientNet-B7, compound-scaled B0 (66,347,960 parameters)", [3, 600, 600]),
    ModelEntry { fixed_size: true, ..model("vit_ti16", "ViT-Ti/16 (DeiT-Ti), Touvron et al. 2021", IMAGENET) },
    ModelEntry { fixed_size: true, ..model("vit_s16", "ViT-S/16 (DeiT-S), Touvron et al. 2021", IMAGENET) },
    ModelEntry {
        fixed_size: true,
        ..model("vit_b16", "ViT-B/16, Dosovitskiy et al. 2021 (86,567,656 parameters)", IMAGENET)
    },
];

pub fn entry(name: &str) -> Result<&'static ModelEntry> {
    MODELS.iter().find(|m| m.name == name).ok_or_else(|| KilnError::UnknownModel {
        name: name.into(),
        known: MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", "),
        hint: closest(name, MODELS.iter().map(|m| m.name))
            .map(|s| format!("; did you mean '{s}'?"))
            .unwrap_or_default(),
    })
}

/// Work to do with a freshly built network of whatever concrete type the name selects.
pub trait ModelJob<B: AutodiffBackend> {
    type Output;
    /// `shape` says how many classes the task has and whether the network ends in an embedding.
    fn run<M>(self, model: M, shape: ModelShape, device: &B::Device) -> Self::Output
    where
        M: AutodiffModule<B> + ImageClassifier<B> + ModuleDisplay + 'static,
        M::InnerModule: ImageClassifier<B::InnerBackend> + ModuleDisplay;
}

/// Runs `$body` with `$config` bound to the default config of model `$name` (one arm per
/// registered name, so each arm is monomorphised for its own config and model type).
macro_rules! with_default_config {
    ($name:expr, |$config:ident| $body:expr) => {
        match $name {
            "lenet5" => {
                let $config = LeNet5Config::new();
                $body
            }
            "mnist_cnn" => {
                let $config = MnistCnnConfig::new();
                $body
            }
            "dilated_cnn" => {
                let $config = DilatedCnnConfig::new();
                $body
            }
            "spp_net" => {
                let $config = SppNetConfig::new();
                $body
            }
            "resnet18" => {
                let $config = ResNetConfig::new(18);
                $body
            }
            "resnet34" => {
                let $config = ResNetConfig::new(34);
                $body
            }
            "resnet50" => {
                let $config = ResNetConfig::new(50);
                $body
            }
            "resnet101" => {
                let $config = ResNetConfig::new(101);
                $body
            }
            "resnet152" => {
                let $config = ResNetConfig::new(152);
                $body
            }
            "googlenet" => {
                let $config = GoogLeNetConfig::new();
                $body
            }
            "mobilenet_v1" => {
                let $config = MobileNetV1Config::new();
                $body
            }
            "mobilenet_v2" => {
                let $config = MobileNetV2Config::new();
                $body
            }
            "shufflenet_v2_x0_5" => {
                let $config = ShuffleNetV2Config::x0_5();
                $body
            }
            "shufflenet_v2_x1_0" => {
                let $config = ShuffleNetV2Config::x1_0();
                $body
            }
            "shufflenet_v2_x1_5" => {
                let $config = ShuffleNetV2Config::x1_5();
                $body
            }
            "shufflenet_v2_x2_0" => {
                let $config = ShuffleNetV2Config::x2_0();
                $body
            }
            "snet49" => {
                let $config = ShuffleNetV2Config::snet49();
                $body
            }
            "snet146" => {
                let $config = ShuffleNetV2Config::snet146();
                $body
            }
            "snet535" => {
                let $config = ShuffleNetV2Config::snet535();
                $body
            }
            "efficientnet_b0" => {
                let $config = EfficientNetConfig::b(0);
                $body
            }
            "efficientnet_b1" => {
                let $config = EfficientNetConfig::b(1);
                $body
            }
            "efficientnet_b2" => {
                let $config = EfficientNetConfig::b(2);
                $body
            }
            "efficientnet_b3" => {
                let $config = EfficientNetConfig::b(3);
                $body
            }
            "efficientnet_b4" => {
                let $config = EfficientNetConfig::b(4);
                $body
            }
            "efficientnet_b5" => {
                let $config = EfficientNetConfig::b(5);
                $body
            }
            "efficientnet_b6" => {
                let $config = EfficientNetConfig::b(6);
                $body
            }
            "efficientnet_b7" => {
                let $config = EfficientNetConfig::b(7);
                $body
            }
            "vit_ti16" => {
                let $config = VitConfig::tiny();
                $body
            }
            "vit_s16" => {
                let $config = VitConfig::small();
                $body
            }
            "vit_b16" => {
                let $config = VitConfig::base();
                $body
            }
            other => unreachable!("'{other}' is listed in MODELS but has no builder"),
        }
    };
}

/// The `[model]` key that ends a model in an embedding of that many dimensions, classified by
/// the head `[loss]` names; it is the registry's, not any one model's.
pub const EMBEDDING_DIM: &str = "embedding_dim";

/// What the training task needs to know of a configured model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelShape {
    /// Classes of the task (`num_classes`).
    pub classes: usize,
    /// Set when the model ends in an embedding and a head classifies it.
    pub embedding_dim: Option<usize>,
}

/// Builds model `name` with `params` (the `[model]` keys other than `name`; with
/// `embedding_dim`, the network ends in an embedding of that size) and runs `job` on it.
pub fn with_model<B: AutodiffBackend, J: ModelJob<B>>(
    name: &str,
    params: &toml::Table,
    device: &B::Device,
    job: J,
) -> Result<J::Output> {
    let error = |p: ParamProblem| KilnError::ModelParams { model: name.into(), message: p.message };
    let (embedding_dim, params) = split_embedding_dim(params).map_err(error)?;
    Ok(with_default_config!(entry(name)?.name, |defaults| {
        let (config, shape) = model_config(defaults, &params, embedding_dim).map_err(error)?;
        job.run(config.init::<B>(device), shape, device)
    }))
}

/// A `[model]` key the model's config rejects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamProblem {
    /// The offending key, when one is to blame.
    pub key: Option<String>,
    pub message: String,
}

/// Checks `params` against model `name`'s config without building the model.
pub fn check_params(name: &str, params: &toml::Table) -> std::result::Result<ModelShape, ParamProblem> {
    let unknown = |e: KilnError| ParamProblem { key: None, message: e.to_string() };
    let (embedding_dim, params) = split_embedding_dim(params)?;
    with_default_config!(entry(name).map_err(unknown)?.name, |defaults| {
        model_config(defaults, &params, embedding_dim).map(|(_, shape)| shape)
    })
}

/// Takes the registry's `embedding_dim` out of the model's own keys.
fn split_embedding_dim(params: &toml::Table) -> std::result::Result<(Option<usize>, toml::Table), ParamProblem> {
    let mut own = params.clone();
    let dim = match own.remove(EMBEDDING_DIM) {
        None => None,
        Some(toml::Value::Integer(d)) if d > 0 => Some(d as usize),
        Some(other) => {
            return Err(ParamProblem {
                key: Some(EMBEDDING_DIM.into()),
                message: format!("{EMBEDDING_DIM} in [model] must be a positive integer, got {other}"),
            })
        }
    };
    Ok((dim, own))
}

/// Checks a merged model config beyond its types: values the builder cannot honour.
pub trait ValidModelConfig {
    fn check(&self) -> std::result::Result<(), String> {
        Ok(())
    }
}

impl ValidModelConfig for LeNet5Config {}
impl ValidModelConfig for MnistCnnConfig {}
impl ValidModelConfig for DilatedCnnConfig {
    fn check(&self) -> std::result::Result<(), String> {
        if self.dilations.is_empty() || self.dilations.contains(&0) {
            return Err(format!("dilations must be positive rates, one per layer, got {:?}", self.dilations));
        }
        Ok(())
    }
}
impl ValidModelConfig for SppNetConfig {
    fn check(&self) -> std::result::Result<(), String> {
        if self.bins.is_empty() || self.bins.contains(&0) {
            return Err(format!("bins must be positive bin counts per side, e.g. [1, 2, 4], got {:?}", self.bins));
        }
        Ok(())
    }
}
impl ValidModelConfig for GoogLeNetConfig {}
impl ValidModelConfig for MobileNetV1Config {}
impl ValidModelConfig for MobileNetV2Config {}
impl ValidModelConfig for ShuffleNetV2Config {}
impl ValidModelConfig for EfficientNetConfig {}
impl ValidModelConfig for ResNetConfig {
    fn check(&self) -> std::result::Result<(), String> {
        self.validate().map_err(|e| e.to_string())
    }
}
impl ValidModelConfig for VitConfig {
    fn check(&self) -> std::result::Result<(), String> {
        self.validate().map_err(|e| e.to_string())
    }
}

/// The model's config from its defaults and the user's keys; with an embedding, the network is
/// built with `embedding_dim` outputs and `num_classes` goes to the head.
fn model_config<C: Config + Serialize + DeserializeOwned + ValidModelConfig>(
    defaults: C,
    params: &toml::Table,
    embedding_dim: Option<usize>,
) -> std::result::Result<(C, ModelShape), ParamProblem> {
    let config = overlay_config(defaults, params, "model")?;
    config.check().map_err(|message| ParamProblem { key: None, message: format!("in [model]: {message}") })?;
    let mut fields = match serde_json::to_value(&config) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => unreachable!("overlay_config read the config as a table"),
    };
    let classes = fields.get("num_classes").and_then(serde_json::Value::as_u64).map(|c| c as usize);
    let classes =
        classes.ok_or_else(|| ParamProblem { key: None, message: "the model's config has no num_classes".into() })?;
    let shape = ModelShape { classes, embedding_dim };
    let Some(dim) = embedding_dim else { return Ok((config, shape)) };
    fields.insert("num_classes".into(), dim.into());
    let config = serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| ParamProblem { key: Some(EMBEDDING_DIM.into()), message: format!("in [model]: {e}") })?;
    Ok((config, shape))
}

/// Overlays the user's keys of `[section]` on a config's defaults; a key the config lacks is an
/// error that names the config's keys.
pub fn overlay_config<C: Serialize + DeserializeOwned>(
    defaults: C,
    params: &toml::Table,
    section: &str,
) -> std::result::Result<C, ParamProblem> {
    let problem = |key: Option<&str>, message: String| ParamProblem { key: key.map(str::to_string), message };
    let mut merged = match serde_json::to_value(&defaults) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => return Err(problem(None, format!("the [{section}] config does not serialise to a table"))),
    };
    for (key, value) in params {
        if !merged.contains_key(key) {
            let hint = closest(key, merged.keys().map(String::as_str))
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
            let keys = merged.keys().cloned().collect::<Vec<_>>().join(", ");
            return Err(problem(Some(key), format!("unknown key '{key}' in [{section}]{hint} (keys: {keys})")));
        }
        let value = serde_json::to_value(value).map_err(|e| problem(Some(key), format!("key '{key}': {e}")))?;
        let check = serde_json::from_value::<C>(serde_json::Value::Object({
            let mut one = merged.clone();
            one.insert(key.clone(), value.clone());
            one
        }));
        if let Err(e) = check {
            return Err(problem(Some(key), format!("bad value for '{key}' in [{section}]: {e}")));
        }
        merged.insert(key.clone(), value);
    }
    serde_json::from_value(serde_json::Value::Object(merged)).map_err(|e| problem(None, format!("in [{section}]: {e}")))
}
