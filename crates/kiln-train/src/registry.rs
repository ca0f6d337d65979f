//! Models by name, like `timm.create_model`: each entry knows its config type and builds a
//! concrete network, which is handed to a task generic over the model type.

use burn::config::Config;
use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use kiln_vision::{ImageClassifier, LeNet5Config, MnistCnnConfig};
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
}

pub const MODELS: &[ModelEntry] = &[
    ModelEntry {
        name: "lenet5",
        summary: "LeNet-5, LeCun et al. 1998 (61,706 parameters for 10 classes)",
        default_input: [1, 28, 28],
    },
    ModelEntry {
        name: "mnist_cnn",
        summary: "Two VGG-style conv-BN-ReLU stages, dropout classifier",
        default_input: [1, 28, 28],
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

/// Work to do with a freshly built classifier of whatever concrete type the name selects.
pub trait ClassifierTask<B: AutodiffBackend> {
    type Output;
    fn run<M>(self, model: M) -> Self::Output
    where
        M: AutodiffModule<B> + ImageClassifier<B> + 'static,
        M::InnerModule: ImageClassifier<B::InnerBackend>;
}

/// Builds model `name` with `params` (the `[model]` keys other than `name`) and runs `task` on it.
pub fn with_classifier<B: AutodiffBackend, T: ClassifierTask<B>>(
    name: &str,
    params: &toml::Table,
    device: &B::Device,
    task: T,
) -> Result<T::Output> {
    let error = |p: ParamProblem| KilnError::ModelParams { model: name.into(), message: p.message };
    match entry(name)?.name {
        "lenet5" => Ok(task.run(model_config(LeNet5Config::new(), params).map_err(error)?.init::<B>(device))),
        "mnist_cnn" => Ok(task.run(model_config(MnistCnnConfig::new(), params).map_err(error)?.init::<B>(device))),
        other => unreachable!("'{other}' is listed in MODELS but has no builder"),
    }
}

/// A `[model]` key the model's config rejects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamProblem {
    /// The offending key, when one is to blame.
    pub key: Option<String>,
    pub message: String,
}

/// Checks `params` against model `name`'s config without building the model.
pub fn check_params(name: &str, params: &toml::Table) -> std::result::Result<(), ParamProblem> {
    let unknown = |e: KilnError| ParamProblem { key: None, message: e.to_string() };
    match entry(name).map_err(unknown)?.name {
        "lenet5" => model_config(LeNet5Config::new(), params).map(drop),
        "mnist_cnn" => model_config(MnistCnnConfig::new(), params).map(drop),
        other => unreachable!("'{other}' is listed in MODELS but has no builder"),
    }
}

/// Overlays the user's keys on the model config's defaults; a key the config lacks is an error
/// that names the config's keys.
fn model_config<C: Config + Serialize>(defaults: C, params: &toml::Table) -> std::result::Result<C, ParamProblem> {
    let problem = |key: Option<&str>, message: String| ParamProblem { key: key.map(str::to_string), message };
    let mut merged = match serde_json::to_value(&defaults) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => return Err(problem(None, "the model's config does not serialise to a table".into())),
    };
    for (key, value) in params {
        if !merged.contains_key(key) {
            let hint = closest(key, merged.keys().map(String::as_str))
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
            let keys = merged.keys().cloned().collect::<Vec<_>>().join(", ");
            return Err(problem(Some(key), format!("unknown key '{key}' in [model]{hint} (keys: {keys})")));
        }
        let value = serde_json::to_value(value).map_err(|e| problem(Some(key), format!("key '{key}': {e}")))?;
        let check = serde_json::from_value::<C>(serde_json::Value::Object({
            let mut one = merged.clone();
            one.insert(key.clone(), value.clone());
            one
        }));
        if let Err(e) = check {
            return Err(problem(Some(key), format!("bad value for '{key}' in [model]: {e}")));
        }
        merged.insert(key.clone(), value);
    }
    serde_json::from_value(serde_json::Value::Object(merged)).map_err(|e| problem(None, format!("in [model]: {e}")))
}
