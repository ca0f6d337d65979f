//! The detection task: its config checks, augmentation that moves boxes with pixels, CenterNet,
//! FCOS and VarifocalNet overfitting one canvas to AP50 = 1, and short runs end to end on the
//! shipped canvases.

use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use kiln_data::CocoDetectionDataset;
use kiln_metrics::{CocoEvaluator, Detection, GroundTruth};
use kiln_train::progress::Silent;
use kiln_train::run::run_experiment;
use kiln_train::task::detection::augment::{flip, rescale};
use kiln_vision::detection::{CenterNetConfig, FcosConfig, LabelledBox, ObjectDetector, ScoredBox, Suppression};

use super::config;

type A = burn::backend::Autodiff<burn::backend::NdArray>;

fn det_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/mnist-det").canonicalize().unwrap()
}

/// A narrow CenterNet on the first `limit` canvases of each split; `extra` is appended TOML.
pub fn det_toml(out: &Path, extra: &str) -> String {
    format!(
        r#"
[experiment]
name = "det"
seed = 5
output_dir = "{out}"

[task]
name = "detection"

[model]
name = "centernet"
width = 4
head_width = 8

[data]
dataset = "coco_detection"
root = "{root}"
batch_size = 4
limit = 8
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
        root = det_root().display()
    )
}

fn error(text: &str) -> String {
    config(text).unwrap_err().to_string()
}

#[test]
fn detection_sections_are_checked_where_they_are_written() {
    let out = tempfile::tempdir().unwrap();
    let ok = det_toml(out.path(), "[detection]\nsuppression = \"nms\"\ncompare = [\"diou_nms\"]\n");
    config(&ok).unwrap();
    let e = error(&ok.replace("\"nms\"", "\"soft_nms_gausian\""));
    assert!(
        e.contains("unknown suppression 'soft_nms_gausian'") && e.contains("did you mean 'soft_nms_gaussian'?"),
        "{e}"
    );
    assert!(e.contains("[detection]"), "{e}");
    let e = error(&format!("{ok}\n[loss]\nname = \"giou\"\n"));
    assert!(e.contains("losses are set in [model]"), "{e}");
    let e = error(&ok.replace("name = \"centernet\"", "name = \"fcn\""));
    assert!(e.contains("model 'fcn' is a segmentation model"), "{e}");
    let e = error(&ok.replace("width = 4", "widht = 4"));
    assert!(e.contains("unknown key 'widht' in [model]; did you mean 'width'?"), "{e}");
    let e = error(&format!("{ok}\n[metrics]\nnames = [\"ar1000\"]\n"));
    assert!(e.contains("not one the detection task computes") && e.contains("did you mean 'ar100'?"), "{e}");
    let e = error(&ok.replace("compare = [\"diou_nms\"]", "scale_jitter = [1.2, 0.8]"));
    assert!(e.contains("scale_jitter is [low, high] with 0 < low ≤ high"), "{e}");
    let e = error(&ok.replace("\"coco_detection\"", "\"coco\""));
    assert!(e.contains("unknown dataset 'coco' in [data] for detection"), "{e}");
    // [detection] belongs to detection experiments only.
    let classification = super::experiment_toml(out.path(), "ndarray", "");
    let e = error(&format!("{classification}\n[detection]\nsuppression = \"nms\"\n"));
    assert!(e.contains("[detection] is read by the detection task only"), "{e}");
}

/// A bright 4×4 block at rows 2–5, columns 1–4 of an 8 × 10 canvas, with its box.
fn block() -> (Vec<f32>, LabelledBox) {
    let mut pixels = vec![0.0; 80];
    for y in 2..6 {
        for x in 1..5 {
            pixels[y * 10 + x] = 1.0;
        }
    }
    (pixels, LabelledBox { bbox: [1.0, 2.0, 5.0, 6.0], class: 7 })
}

/// The box `[x1, y1, x2, y2]` around pixels above `threshold`.
fn ink_box(pixels: &[f32], width: usize, threshold: f32) -> [f32; 4] {
    let on: Vec<(usize, usize)> =
        pixels.iter().enumerate().filter(|(_, &v)| v > threshold).map(|(i, _)| (i % width, i / width)).collect();
    let (xs, ys): (Vec<usize>, Vec<usize>) = on.into_iter().unzip();
    [*xs.iter().min().unwrap(), *ys.iter().min().unwrap(), xs.iter().max().unwrap() + 1, ys.iter().max().unwrap() + 1]
        .map(|v| v as f32)
}

#[test]
fn flip_and_rescale_move_the_boxes_with_the_pixels() {
    let (mut pixels, b) = block();
    let mut boxes = vec![b];
    flip(&mut pixels, &mut boxes, (8, 10));
    // Columns 1–4 of 10 mirror to columns 5–8.
    assert_eq!(boxes[0].bbox, [5.0, 2.0, 9.0, 6.0]);
    assert_eq!(ink_box(&pixels, 10, 0.5), boxes[0].bbox);
    assert_eq!(boxes[0].class, 7);

    // Doubling about the centre (5, 4): x ↦ 2x − 5, y ↦ 2y − 4, so [1, 2, 5, 6] → [−3, 0, 5, 8],
    // clipped to [0, 0, 5, 8]: 5·8 = 40 of 8·8 = 64 remain, more than half, so it is kept.
    let (pixels, b) = block();
    let (scaled, moved) = rescale(&pixels, &[b], (8, 10), 2.0, 0.0);
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].bbox, [0.0, 0.0, 5.0, 8.0]);
    // Bilinear resampling blurs the block's edge by half an input pixel; at 0.5 the ink ends
    // where the box does.
    assert_eq!(ink_box(&scaled, 10, 0.5), moved[0].bbox);
    // Halving: [1, 2, 5, 6] → [3, 3, 5, 5]; the rest of the canvas is the fill.
    let (scaled, moved) = rescale(&pixels, &[b], (8, 10), 0.5, -1.0);
    assert_eq!(moved[0].bbox, [3.0, 3.0, 5.0, 5.0]);
    assert_eq!(scaled[0], -1.0);
    assert_eq!(ink_box(&scaled, 10, 0.4), moved[0].bbox);
    // A box pushed mostly off the canvas is dropped: ×3 about (5, 4) sends [1, 2, 5, 6] to
    // [−7, −2, 5, 10], of which 5·8 = 40 of 12·12 = 144 remain.
    let (_, moved) = rescale(&pixels, &[b], (8, 10), 3.0, 0.0);
    assert!(moved.is_empty(), "{moved:?}");
}

/// The first training canvas: its pixels as a [1, 1, 128, 128] batch, its digits as corner boxes
/// and as COCO ground truth.
fn first_canvas(device: &burn::tensor::Device<A>) -> (Tensor<A, 4>, Vec<LabelledBox>, Vec<GroundTruth>) {
    let root = det_root();
    let set = CocoDetectionDataset::load(&root.join("train"), &root.join("annotations/instances_train.json"), Some(1))
        .unwrap();
    let objects: Vec<LabelledBox> = set.objects[0]
        .iter()
        .map(|o| {
            let [x, y, w, h] = o.bbox;
            LabelledBox { bbox: [x, y, x + w, y + h], class: o.class }
        })
        .collect();
    assert!(objects.len() >= 2, "the first training canvas has {} digits", objects.len());
    let pixels: Vec<f32> = set.image(0).iter().map(|&p| f32::from(p) / 255.0).collect();
    let images = Tensor::<A, 4>::from_data(TensorData::new(pixels, [1, 1, 128, 128]), device);
    let truths = set.objects[0].iter().map(|o| GroundTruth::new(o.class as u64, o.bbox.map(f64::from))).collect();
    (images, objects, truths)
}

/// COCO AP50 of `found` on one image.
fn ap50(truths: &[GroundTruth], found: &[ScoredBox]) -> f64 {
    let detections: Vec<Detection> = found
        .iter()
        .map(|d| {
            let [x1, y1, x2, y2] = d.bbox.map(f64::from);
            Detection::new(d.class as u64, [x1, y1, x2 - x1, y2 - y1], f64::from(d.score))
        })
        .collect();
    let mut coco = CocoEvaluator::new();
    coco.add_image(1, truths, &detections);
    coco.summarize().ap50.unwrap()
}

/// `steps` of Adam at `lr` on the one canvas.
fn overfit<M>(mut model: M, images: &Tensor<A, 4>, objects: &[LabelledBox], steps: usize, lr: f64) -> M
where
    M: ObjectDetector<A> + burn::module::AutodiffModule<A>,
{
    let mut optim = AdamConfig::new().init();
    let batch = [objects.to_vec()];
    for _ in 0..steps {
        let loss = model.losses(images.clone(), &batch).remove(0).1;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(lr, model, grads);
    }
    model
}

#[test]
fn centernet_overfits_one_canvas_to_ap50_of_one() {
    let device = Default::default();
    let (images, objects, truths) = first_canvas(&device);
    let model = CenterNetConfig::new().with_width(8).with_head_width(16).init::<A>(&device);
    let model = overfit(model, &images, &objects, 150, 5e-3);
    let found = model.valid().detect(images.inner(), 100).remove(0);
    let ap50 = ap50(&truths, &found);
    assert!((ap50 - 1.0).abs() < 1e-9, "AP50 {ap50} after overfitting; best detections {:?}", &found[..4]);
}

/// FCOS (and VarifocalNet's IACS + refinement on top of it) overfits the same canvas: every
/// digit found with its class, and after NMS no duplicate outranks a true detection.
#[test]
fn fcos_and_vfnet_overfit_one_canvas_to_ap50_of_one() {
    let device = Default::default();
    let (images, objects, truths) = first_canvas(&device);
    let fcos = FcosConfig::new()
        .with_width(8)
        .with_fpn_width(16)
        .with_groups(4)
        .with_strides(vec![4, 8])
        .with_level_limits(vec![24.0]);
    for (name, config) in [("fcos", fcos.clone()), ("vfnet", fcos.with_varifocal(true).with_refine(true))] {
        let model = overfit(config.init::<A>(&device), &images, &objects, 150, 5e-3);
        let candidates = model.valid().detect(images.clone().inner(), 1000).remove(0);
        let found = Suppression::from_name("nms").unwrap().apply(&candidates, 100);
        let ap50 = ap50(&truths, &found);
        let best = &found[..4.min(found.len())];
        assert!((ap50 - 1.0).abs() < 1e-9, "{name}: AP50 {ap50} after overfitting; best {best:?}");
    }
}

#[test]
fn centernet_trains_and_reports_coco_figures_for_each_suppression() {
    let out = tempfile::tempdir().unwrap();
    let extra =
        "[detection]\nsuppression = \"none\"\ncompare = [\"nms\", \"soft_nms_gaussian\"]\nscale_jitter = [0.8, 1.2]\n";
    let summary = run_experiment(&config(&det_toml(out.path(), extra)).unwrap(), None, &mut Silent).unwrap();
    assert_eq!(summary.task, "detection");
    for name in ["ap", "ap50", "ap75", "aps", "ar100", "nms_ap", "soft_nms_gaussian_ap50"] {
        let v = summary.metrics[&format!("test/{name}")];
        assert!((0.0..=1.0).contains(&v), "test/{name} = {v}");
    }
    // No digit box is larger than 96² on MNIST-det: APl is undefined and left out, as
    // pycocotools' −1.
    assert!(!summary.metrics.contains_key("test/apl"));
    assert!(summary.metrics["train/loss"].is_finite() && summary.metrics.contains_key("train/size_loss"));
    let csv = std::fs::read_to_string(Path::new(&summary.run_dir).join("metrics.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    for column in ["train_loss", "train_heat_loss", "train_size_loss", "train_offset_loss", "valid_ap", "valid_ap50"] {
        assert!(header.split(',').any(|c| c == column), "{column} missing from {header}");
    }
}

/// VarifocalNet (IACS + refinement; the deformable star feature is covered in kiln-vision's
/// tests, too slow for a CPU run) through the task: its own loss columns and COCO figures.
#[test]
fn vfnet_trains_through_the_task_with_its_own_loss_columns() {
    let out = tempfile::tempdir().unwrap();
    let model =
        "name = \"vfnet\"\nwidth = 4\nfpn_width = 8\ngroups = 2\nstar = false\nstrides = [4, 8]\nlevel_limits = [24.0]";
    let text = det_toml(out.path(), "[detection]\nsuppression = \"nms\"\n")
        .replace("name = \"centernet\"\nwidth = 4\nhead_width = 8", model);
    let summary = run_experiment(&config(&text).unwrap(), None, &mut Silent).unwrap();
    assert_eq!(summary.model, "vfnet");
    for name in ["ap", "ap50", "ar100"] {
        let v = summary.metrics[&format!("test/{name}")];
        assert!((0.0..=1.0).contains(&v), "test/{name} = {v}");
    }
    for loss in ["loss", "class_loss", "box_loss", "refine_loss"] {
        assert!(summary.metrics[&format!("train/{loss}")].is_finite(), "train/{loss} missing or not finite");
    }
}
