//! Losses and metrics chosen by name: config errors, an embedding head trained end to end, and
//! the extra metrics against values worked by hand.

use std::path::Path;

use burn::backend::NdArray;
use burn::prelude::*;
use kiln_train::config::{parse_experiment, MetricsSection};
use kiln_train::progress::Silent;
use kiln_train::run::run_experiment;
use kiln_train::task::classification::metrics::ClassificationMetrics;

use super::experiment_toml;

/// The LeNet-5 test experiment with `model` lines added to `[model]` and `tail` appended.
fn with(out: &Path, model: &str, tail: &str) -> String {
    let base = experiment_toml(out, "ndarray", "");
    format!("{}\n{tail}", base.replace("name = \"lenet5\"", &format!("name = \"lenet5\"\n{model}")))
}

fn error(text: &str) -> kiln_train::ConfigError {
    parse_experiment(text, "exp.toml", &[]).unwrap_err()
}

/// 1-based line of the first line of `text` that starts with `prefix`.
fn line_of(text: &str, prefix: &str) -> usize {
    text.lines().position(|l| l.trim_start().starts_with(prefix)).unwrap() + 1
}

#[test]
fn a_margin_loss_needs_an_embedding() {
    let dir = tempfile::tempdir().unwrap();
    let text = with(dir.path(), "", "[loss]\nname = \"arcface\"");
    let e = error(&text);
    assert_eq!(e.line, Some(line_of(&text, "name = \"arcface\"")), "{e}");
    assert!(e.message.contains("embedding_dim"), "{e}");
}

#[test]
fn loss_names_and_keys_are_checked_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let text = with(dir.path(), "embedding_dim = 3", "[loss]\nname = \"giou\"");
    assert!(error(&text).message.contains("box regression"), "{}", error(&text));
    let text = with(dir.path(), "embedding_dim = 3", "[loss]\nname = \"arcfce\"");
    assert!(error(&text).message.contains("did you mean 'arcface'"), "{}", error(&text));
    let text = with(dir.path(), "embedding_dim = 3", "[loss]\nname = \"cosface\"\nmargn = 0.2");
    let e = error(&text);
    assert_eq!(e.line, Some(line_of(&text, "margn")), "{e}");
    assert!(e.message.contains("did you mean 'margin'"), "{e}");
    let text = with(dir.path(), "embedding_dim = 3", "[loss]\nname = \"arcface\"\nclasses = 10");
    assert!(error(&text).message.contains("set from the model"), "{}", error(&text));
    let text = with(dir.path(), "", "[loss]\nclass_weights = [1.0, 2.0]");
    let e = error(&text);
    assert!(e.message.contains("2 values but the model has 10 classes"), "{e}");
    let text = with(dir.path(), "embedding_dim = 0", "");
    assert!(error(&text).message.contains("positive integer"), "{}", error(&text));
}

#[test]
fn metric_names_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let text = with(dir.path(), "", "[metrics]\nnames = [\"mean_iou\"]");
    let e = error(&text);
    assert_eq!(e.line, Some(line_of(&text, "names")), "{e}");
    assert!(e.message.contains("segmentation"), "{e}");
    let text = with(dir.path(), "", "[metrics]\nnames = [\"macro_f2\"]");
    assert!(error(&text).message.contains("did you mean 'macro_f1'"), "{}", error(&text));
    let text = with(dir.path(), "", "[metrics]\nnames = [\"inter_class_angle\"]");
    assert!(error(&text).message.contains("embedding_dim"), "{}", error(&text));
    let text = with(dir.path(), "", "[metrics]\nnames = [\"top0_accuracy\"]");
    assert!(error(&text).message.contains("positive integer"), "{}", error(&text));
}

#[test]
fn an_arcface_head_trains_and_reports_the_chosen_metrics() {
    let out = tempfile::tempdir().unwrap();
    let metrics = r#"names = ["macro_f1", "top2_accuracy", "intra_class_angle", "inter_class_angle"]"#;
    let text = with(
        out.path(),
        "embedding_dim = 3",
        &format!("[loss]\nname = \"arcface\"\nscale = 16.0\nmargin = 0.3\n\n[metrics]\n{metrics}"),
    );
    let mut cfg = parse_experiment(&text, "exp.toml", &[]).unwrap();
    cfg.train.epochs = 1;
    let summary = run_experiment(&cfg, None, &mut Silent).unwrap();
    // LeNet-5 has 61,706 parameters for 10 classes; its last layer 84→10 (850) becomes 84→3
    // (255), and ArcFace adds a 3×10 weight without bias (30): 61,141.
    assert_eq!(summary.parameters, 61_141);
    let m = &summary.metrics;
    for split in ["valid", "test"] {
        let get = |name: &str| m[&format!("{split}/{name}")];
        assert!((0.0..=1.0).contains(&get("macro_f1")));
        assert!(get("top2_accuracy") >= get("accuracy"), "top-2 cannot be below top-1");
        assert!((0.0..=180.0).contains(&get("intra_class_angle")));
        assert!((0.0..=180.0).contains(&get("inter_class_angle")));
    }
    let csv = std::fs::read_to_string(Path::new(&summary.run_dir).join("metrics.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    for column in ["valid_macro_f1", "valid_top2_accuracy", "valid_intra_class_angle", "valid_inter_class_angle"] {
        assert!(header.split(',').any(|c| c == column), "{column} missing from {header}");
    }
}

#[test]
fn a_softmax_head_on_an_embedding_is_linear_with_bias() {
    let out = tempfile::tempdir().unwrap();
    let mut cfg = parse_experiment(&with(out.path(), "embedding_dim = 3", ""), "exp.toml", &[]).unwrap();
    cfg.train.epochs = 1;
    cfg.data.limit = Some(32);
    let summary = run_experiment(&cfg, None, &mut Silent).unwrap();
    // 61,706 − 850 + 255 + (3×10 + 10) = 61,151.
    assert_eq!(summary.parameters, 61_151);
}

#[test]
fn classification_metrics_match_counts_worked_by_hand() {
    let device = Default::default();
    // Predictions (argmax): 0, 1, 1, 2 against targets 0, 0, 1, 2.
    let logits = Tensor::<NdArray, 2>::from_floats(
        [[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.0, 0.3, 0.7]],
        &device,
    );
    let targets = Tensor::<NdArray, 1, Int>::from_ints([0, 0, 1, 2], &device);
    let section = MetricsSection {
        names: ["macro_precision", "macro_recall", "macro_f1", "micro_f1", "top2_accuracy"].map(String::from).to_vec(),
    };
    let mut metrics = ClassificationMetrics::new(&section);
    assert!(!metrics.wants_embeddings());
    metrics.update(logits, targets, None);
    let values: std::collections::BTreeMap<String, f64> = metrics.values().into_iter().collect();
    // Class 0: P 1/1, R 1/2, F1 2/3. Class 1: P 1/2, R 1/1, F1 2/3. Class 2: P = R = F1 = 1.
    let close = |k: &str, v: f64| assert!((values[k] - v).abs() < 1e-9, "{k}: {} vs {v}", values[k]);
    close("macro_precision", (1.0 + 0.5 + 1.0) / 3.0);
    close("macro_recall", (0.5 + 1.0 + 1.0) / 3.0);
    close("macro_f1", (2.0 / 3.0 + 2.0 / 3.0 + 1.0) / 3.0);
    // Micro F1 of single-label classification is accuracy: 3/4.
    close("micro_f1", 0.75);
    // Second-ranked classes: 1, 0, 0, 1 → sample 1's target 0 is 2nd: all four within top 2.
    close("top2_accuracy", 1.0);
}
