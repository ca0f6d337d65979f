//! Models by name, like `timm.create_model`. Each family declares its named variants beside its
//! config (`kiln_vision::family::ModelFamily`); this file is the one list of families, and maps a
//! name to its family's builder.

use std::sync::LazyLock;

use burn::tensor::backend::AutodiffBackend;
use kiln_vision::backbones::{
    DilatedCnnConfig, EfficientNetConfig, GoogLeNetConfig, LeNet5Config, MnistCnnConfig, MobileNetV1Config,
    MobileNetV2Config, ResNetConfig, ShuffleNetV2Config, SppNetConfig, VitConfig,
};
use kiln_vision::detection::{CenterNetConfig, DetectorFamily, FcosConfig, OnDetector};
use kiln_vision::family::{ClassifierFamily, ModelFamily, OnClassifier};
use kiln_vision::segmentation::{DeepLabConfig, FcnConfig, OnSegmenter, SegmenterFamily};

use crate::config::{closest, overlay_config, ParamProblem};
use crate::error::{KilnError, Result};

/// Sees every family kiln builds by name, as the type it is.
pub trait FamilyVisitor {
    fn classifier<C: ClassifierFamily>(&mut self);
    fn segmenter<C: SegmenterFamily>(&mut self);
    fn detector<C: DetectorFamily>(&mut self);
}

/// The families `[model] name` picks from: a new family is one line here, and its variants are
/// declared where it is defined.
pub fn visit_families(visitor: &mut impl FamilyVisitor) {
    visitor.classifier::<LeNet5Config>();
    visitor.classifier::<MnistCnnConfig>();
    visitor.classifier::<DilatedCnnConfig>();
    visitor.classifier::<SppNetConfig>();
    visitor.classifier::<ResNetConfig>();
    visitor.classifier::<GoogLeNetConfig>();
    visitor.classifier::<MobileNetV1Config>();
    visitor.classifier::<MobileNetV2Config>();
    visitor.classifier::<ShuffleNetV2Config>();
    visitor.classifier::<EfficientNetConfig>();
    visitor.classifier::<VitConfig>();
    visitor.segmenter::<FcnConfig>();
    visitor.segmenter::<DeepLabConfig>();
    visitor.detector::<CenterNetConfig>();
    visitor.detector::<FcosConfig>();
}

/// What a network of a family computes, and so which task trains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    Classifier,
    Segmenter,
    Detector,
}

impl ModelKind {
    /// The `[task] name` that trains networks of this kind.
    pub fn task(self) -> &'static str {
        match self {
            Self::Classifier => "classification",
            Self::Segmenter => "segmentation",
            Self::Detector => "detection",
        }
    }
}

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
    pub kind: ModelKind,
}

/// Every registered variant, in the order of [`visit_families`].
pub fn models() -> &'static [ModelEntry] {
    struct Collect(Vec<ModelEntry>);
    impl Collect {
        fn family<C: ModelFamily>(&mut self, kind: ModelKind) {
            self.0.extend(C::VARIANTS.iter().map(|v| ModelEntry {
                name: v.name,
                summary: v.summary,
                default_input: v.default_input,
                fixed_size: C::FIXED_SIZE,
                kind,
            }));
        }
    }
    impl FamilyVisitor for Collect {
        fn classifier<C: ClassifierFamily>(&mut self) {
            self.family::<C>(ModelKind::Classifier)
        }
        fn segmenter<C: SegmenterFamily>(&mut self) {
            self.family::<C>(ModelKind::Segmenter)
        }
        fn detector<C: DetectorFamily>(&mut self) {
            self.family::<C>(ModelKind::Detector)
        }
    }
    static MODELS: LazyLock<Vec<ModelEntry>> = LazyLock::new(|| {
        let mut all = Collect(Vec::new());
        visit_families(&mut all);
        all.0
    });
    &MODELS
}

impl ModelEntry {
    /// The `[model]` keys that fit the network to images of `[C, H, W]`: its channels, and the
    /// image size of a network built for one size.
    pub fn input_params(&self, [channels, height, _]: [usize; 3]) -> toml::Table {
        let mut params = toml::Table::new();
        params.insert("in_channels".into(), toml::Value::Integer(channels as i64));
        if self.fixed_size {
            params.insert("image_size".into(), toml::Value::Integer(height as i64));
        }
        params
    }
}

/// The entry of model `name`, of any kind.
pub fn entry(name: &str) -> Result<&'static ModelEntry> {
    let names = || models().iter().map(|m| m.name);
    models().iter().find(|m| m.name == name).ok_or_else(|| KilnError::UnknownModel {
        name: name.into(),
        known: names().collect::<Vec<_>>().join(", "),
        hint: closest(name, names()).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default(),
    })
}

/// Why `name` is no `kind` model: another task's, or not registered (with the nearest name).
fn not_of_kind(name: &str, kind: ModelKind) -> ParamProblem {
    let message = match models().iter().find(|m| m.name == name) {
        Some(other) => format!(
            "model '{name}' is a {} model; [task] name = \"{}\" trains it",
            other.kind.task(),
            other.kind.task()
        ),
        None => {
            let names = || models().iter().filter(|m| m.kind == kind).map(|m| m.name);
            let hint = closest(name, names()).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
            format!(
                "unknown {} model '{name}' (registered: {}){hint}",
                kind.task(),
                names().collect::<Vec<_>>().join(", ")
            )
        }
    };
    ParamProblem { key: Some("name".into()), message }
}

/// A variant's config (`defaults`) with the user's `[model]` keys on top, checked by its family.
fn configure<C: ModelFamily>(defaults: C, params: &toml::Table) -> std::result::Result<C, ParamProblem> {
    let config = overlay_config(defaults, params, "model")?;
    config.check().map_err(|e| ParamProblem { key: None, message: format!("in [model]: {e}") })?;
    Ok(config)
}

/// The configured keys of model `name` of `kind` (defaults and the user's `params`), checked
/// without building the network; a task reads what it needs of them (`num_classes`).
pub fn check_params(
    name: &str,
    kind: ModelKind,
    params: &toml::Table,
) -> std::result::Result<serde_json::Map<String, serde_json::Value>, ParamProblem> {
    struct Check<'a> {
        name: &'a str,
        kind: ModelKind,
        params: &'a toml::Table,
        found: Option<std::result::Result<serde_json::Map<String, serde_json::Value>, ParamProblem>>,
    }
    impl Check<'_> {
        fn family<C: ModelFamily>(&mut self, kind: ModelKind) {
            if self.found.is_some() || kind != self.kind {
                return;
            }
            let Some(defaults) = C::variant(self.name) else { return };
            self.found = Some(configure(defaults, self.params).map(|config| match serde_json::to_value(&config) {
                Ok(serde_json::Value::Object(fields)) => fields,
                _ => unreachable!("overlay_config read the config as a table"),
            }));
        }
    }
    impl FamilyVisitor for Check<'_> {
        fn classifier<C: ClassifierFamily>(&mut self) {
            self.family::<C>(ModelKind::Classifier)
        }
        fn segmenter<C: SegmenterFamily>(&mut self) {
            self.family::<C>(ModelKind::Segmenter)
        }
        fn detector<C: DetectorFamily>(&mut self) {
            self.family::<C>(ModelKind::Detector)
        }
    }
    let mut check = Check { name, kind, params, found: None };
    visit_families(&mut check);
    check.found.unwrap_or_else(|| Err(not_of_kind(name, kind)))
}

/// A build waiting for the family that declares its name.
struct Pending<'a, B: AutodiffBackend, J, O> {
    name: &'a str,
    params: &'a toml::Table,
    device: &'a B::Device,
    job: Option<J>,
    built: Option<std::result::Result<O, ParamProblem>>,
}

impl<'a, B: AutodiffBackend, J, O> Pending<'a, B, J, O> {
    fn new(name: &'a str, params: &'a toml::Table, device: &'a B::Device, job: J) -> Self {
        Self { name, params, device, job: Some(job), built: None }
    }

    /// Builds with family `C` if it declares the name.
    fn offer<C: ModelFamily>(&mut self, init: impl FnOnce(&C, &B::Device, J) -> O) {
        if self.built.is_some() {
            return;
        }
        if let Some(defaults) = C::variant(self.name) {
            let job = self.job.take().expect("a name belongs to one family");
            self.built = Some(configure(defaults, self.params).map(|c| init(&c, self.device, job)));
        }
    }

    fn finish(self, kind: ModelKind) -> Result<O> {
        let name = self.name;
        self.built
            .unwrap_or_else(|| Err(not_of_kind(name, kind)))
            .map_err(|p| KilnError::ModelParams { model: name.into(), message: p.message })
    }
}

/// Builds classifier `name` with `params` (the `[model]` keys other than `name`) and runs `job`
/// on it.
pub fn with_classifier_model<B: AutodiffBackend, J: OnClassifier<B>>(
    name: &str,
    params: &toml::Table,
    device: &B::Device,
    job: J,
) -> Result<J::Output> {
    struct Build<'a, B: AutodiffBackend, J: OnClassifier<B>>(Pending<'a, B, J, J::Output>);
    impl<B: AutodiffBackend, J: OnClassifier<B>> FamilyVisitor for Build<'_, B, J> {
        fn classifier<C: ClassifierFamily>(&mut self) {
            self.0.offer::<C>(|config, device, job| config.init_with(device, job))
        }
        fn segmenter<C: SegmenterFamily>(&mut self) {}
        fn detector<C: DetectorFamily>(&mut self) {}
    }
    let mut build = Build(Pending::new(name, params, device, job));
    visit_families(&mut build);
    build.0.finish(ModelKind::Classifier)
}

/// Builds segmentation network `name` with `params` and runs `job` on it.
pub fn with_segmenter_model<B: AutodiffBackend, J: OnSegmenter<B>>(
    name: &str,
    params: &toml::Table,
    device: &B::Device,
    job: J,
) -> Result<J::Output> {
    struct Build<'a, B: AutodiffBackend, J: OnSegmenter<B>>(Pending<'a, B, J, J::Output>);
    impl<B: AutodiffBackend, J: OnSegmenter<B>> FamilyVisitor for Build<'_, B, J> {
        fn classifier<C: ClassifierFamily>(&mut self) {}
        fn segmenter<C: SegmenterFamily>(&mut self) {
            self.0.offer::<C>(|config, device, job| config.init_with(device, job))
        }
        fn detector<C: DetectorFamily>(&mut self) {}
    }
    let mut build = Build(Pending::new(name, params, device, job));
    visit_families(&mut build);
    build.0.finish(ModelKind::Segmenter)
}

/// Builds detector `name` with `params` and runs `job` on it.
pub fn with_detector_model<B: AutodiffBackend, J: OnDetector<B>>(
    name: &str,
    params: &toml::Table,
    device: &B::Device,
    job: J,
) -> Result<J::Output> {
    struct Build<'a, B: AutodiffBackend, J: OnDetector<B>>(Pending<'a, B, J, J::Output>);
    impl<B: AutodiffBackend, J: OnDetector<B>> FamilyVisitor for Build<'_, B, J> {
        fn classifier<C: ClassifierFamily>(&mut self) {}
        fn segmenter<C: SegmenterFamily>(&mut self) {}
        fn detector<C: DetectorFamily>(&mut self) {
            self.0.offer::<C>(|config, device, job| config.init_with(device, job))
        }
    }
    let mut build = Build(Pending::new(name, params, device, job));
    visit_families(&mut build);
    build.0.finish(ModelKind::Detector)
}
