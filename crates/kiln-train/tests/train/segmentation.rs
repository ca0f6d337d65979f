//! The segmentation task: its config checks, and a short run end to end on the shipped canvases.

use std::path::{Path, PathBuf};

use kiln_train::progress::Silent;
use kiln_train::run::run_experiment;

use super::config;

fn seg_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/mnist-seg").canonicalize().unwrap()
}

/// A small FCN on the first `limit` canvases of each split; `extra` is appended TOML.
pub fn seg_toml(out: &Path, model: &str, extra: &str) -> String {
    format!(
        r#"
[experiment]
name = "seg"
seed = 3
output_dir = "{out}"

[task]
name = "segmentation"

[model]
{model}

[data]
dataset = "png_segmentation"
root = "{root}"
batch_size = 8
limit = 24
valid_fraction = 0.25
num_workers = 1

[optim]
name = "adam"
lr = 3e-3

[train]
epochs = 1
backend = "ndarray"
{extra}
"#,
        out = out.display(),
        root = seg_root().display()
    )
}

fn error(text: &str) -> String {
    config(text).unwrap_err().to_string()
}

#[test]
fn segmentation_sections_are_checked_by_the_task_where_they_are_written() {
    let out = tempfile::tempdir().unwrap();
    let ok = seg_toml(out.path(), "name = \"fcn\"\nwidth = 4", "");
    config(&ok).unwrap();
    let e = error(&ok.replace("width = 4", "widht = 4"));
    assert!(e.contains("unknown key 'widht' in [model]; did you mean 'width'?") && e.contains("exp.toml:12"), "{e}");
    let e = error(&ok.replace("name = \"fcn\"", "name = \"lenet5\""));
    assert!(e.contains("model 'lenet5' is a classification model; [task] name = \"classification\" trains it"), "{e}");
    let e = error(&ok.replace("name = \"fcn\"", "name = \"deeplap\""));
    assert!(
        e.contains("unknown segmentation model 'deeplap' (registered: fcn, deeplab); did you mean 'deeplab'?"),
        "{e}"
    );
    let e = error(&format!("{ok}\n[metrics]\nnames = [\"mean_iu\"]\n"));
    assert!(e.contains("did you mean 'mean_iou'?"), "{e}");
    let e = error(&format!("{ok}\n[metrics]\nnames = [\"macro_f1\"]\n"));
    assert!(e.contains("not one the segmentation task computes"), "{e}");
    let e = error(&format!("{ok}\n[loss]\nname = \"cross_entropy\"\nlabel_smoothing = 0.1\n"));
    assert!(e.contains("label_smoothing is a classification setting"), "{e}");
    let e = error(&format!("{ok}\n[loss]\nname = \"cross_entropy\"\nignore_index = 300\n"));
    assert!(e.contains("ignore_index must be a label 0–255"), "{e}");
    let e = error(&ok.replace("\"png_segmentation\"", "\"mnist\""));
    assert!(e.contains("unknown dataset 'mnist' in [data] for segmentation"), "{e}");
    let e = error(&ok.replace("name = \"segmentation\"", "name = \"segmentaton\""));
    assert!(e.contains("unknown task 'segmentaton' in [task]") && e.contains("did you mean 'segmentation'?"), "{e}");
    // A network whose classes do not cover the labels is refused before training.
    let few = seg_toml(out.path(), "name = \"fcn\"\nwidth = 4\nnum_classes = 5", "");
    let e = run_experiment(&config(&few).unwrap(), None, &mut Silent).unwrap_err().to_string();
    assert!(e.contains("hold class") && e.contains("num_classes is 5"), "{e}");
}

#[test]
fn fcn_and_deeplab_train_and_report_the_segmentation_metrics() {
    let out = tempfile::tempdir().unwrap();
    let models = ["name = \"fcn\"\nwidth = 4", "name = \"deeplab\"\nwidth = 4\naspp_channels = 8"];
    let mut sizes = Vec::new();
    for model in models {
        let extra = "[loss]\nname = \"cross_entropy\"\ndice_weight = 0.5\n";
        let summary = run_experiment(&config(&seg_toml(out.path(), model, extra)).unwrap(), None, &mut Silent).unwrap();
        assert_eq!(summary.task, "segmentation");
        for split in ["valid", "test"] {
            for name in ["pixel_accuracy", "mean_pixel_accuracy", "mean_iou", "frequency_weighted_iou"] {
                let v = summary.metrics[&format!("{split}/{name}")];
                assert!((0.0..=1.0).contains(&v), "{split}/{name} = {v}");
            }
            // Mean IoU cannot exceed mean pixel accuracy (IoU_c ≤ recall_c for every class).
            let (miou, mpa) = (
                summary.metrics[&format!("{split}/mean_iou")],
                summary.metrics[&format!("{split}/mean_pixel_accuracy")],
            );
            assert!(miou <= mpa + 1e-12, "{split}: MIoU {miou} > MPA {mpa}");
        }
        assert!(summary.metrics["train/loss"].is_finite() && summary.metrics.contains_key("train/pixel_accuracy"));
        let csv = std::fs::read_to_string(Path::new(&summary.run_dir).join("metrics.csv")).unwrap();
        let header = csv.lines().next().unwrap();
        assert_eq!(
            header,
            "epoch,lr,train_loss,train_pixel_accuracy,valid_frequency_weighted_iou,valid_loss,valid_mean_iou,valid_mean_pixel_accuracy,valid_pixel_accuracy,samples_per_second,seconds"
        );
        sizes.push(summary.parameters);
    }
    // "At similar size": within 25 % of each other at equal width.
    let (fcn, deeplab) = (sizes[0] as f64, sizes[1] as f64);
    assert!((fcn / deeplab - 1.0).abs() < 0.25, "FCN {fcn} vs DeepLab {deeplab} parameters");
}
