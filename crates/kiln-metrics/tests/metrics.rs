//! kiln-metrics against values worked by hand: confusion matrices here, detection and per-frame AP in
//! the modules below.

use burn::backend::NdArray;
use burn::prelude::*;
use kiln_metrics::{Accuracy, ConfusionMatrix, Mean};

#[path = "metrics/angular.rs"]
mod angular;
#[path = "metrics/detection.rs"]
mod detection;
#[path = "metrics/frame_ap.rs"]
mod frame_ap;
#[path = "metrics/frechet.rs"]
mod frechet;

fn close(a: Option<f64>, b: f64) {
    let a = a.expect("defined");
    assert!((a - b).abs() < 1e-9, "{a} vs {b}");
}

/// Rows true, columns predicted: [[2,1,0],[0,1,1],[1,0,3]], plus one ignored pixel.
fn three_classes() -> ConfusionMatrix {
    let targets = [0, 0, 0, 1, 1, 2, 2, 2, 2, 255];
    let predicted = [0, 0, 1, 1, 2, 2, 2, 0, 2, 1];
    let mut m = ConfusionMatrix::new(3, Some(255));
    assert_eq!(m.update_indices(&predicted, &targets), 0);
    m
}

#[test]
fn confusion_counts_and_ignores() {
    let m = three_classes();
    let rows: Vec<Vec<u64>> = (0..3).map(|i| (0..3).map(|j| m.count(i, j)).collect()).collect();
    assert_eq!(rows, vec![vec![2, 1, 0], vec![0, 1, 1], vec![1, 0, 3]]);
}

#[test]
fn segmentation_metrics_match_long_et_al() {
    let m = three_classes();
    // t = [3, 2, 4], diagonal [2, 1, 3], column sums [3, 2, 4].
    close(m.pixel_accuracy(), 6.0 / 9.0);
    close(m.mean_pixel_accuracy(), (2.0 / 3.0 + 1.0 / 2.0 + 3.0 / 4.0) / 3.0);
    // IoU: 2/(3+3−2), 1/(2+2−1), 3/(4+4−3).
    close(m.mean_iou(), (0.5 + 1.0 / 3.0 + 0.6) / 3.0);
    close(m.frequency_weighted_iou(), (3.0 * 0.5 + 2.0 / 3.0 + 4.0 * 0.6) / 9.0);
}

#[test]
fn precision_recall_f1_macro_and_micro() {
    // Binary: truth [1,1,1,0], predicted [1,0,0,0].
    let mut m = ConfusionMatrix::new(2, None);
    m.update_indices(&[1, 0, 0, 0], &[1, 1, 1, 0]);
    assert_eq!((m.precision(1), m.recall(1)), (1.0, 1.0 / 3.0));
    assert_eq!((m.precision(0), m.recall(0)), (1.0 / 3.0, 1.0));
    close(Some(m.f1(1)), 0.5);
    close(m.macro_precision(), 2.0 / 3.0);
    close(m.macro_recall(), 2.0 / 3.0);
    close(m.macro_f1(), 0.5);
    close(m.micro_f1(), 0.5);
}

#[test]
fn empty_matrix_has_no_values_and_absent_classes_do_not_count() {
    let m = ConfusionMatrix::new(4, None);
    assert_eq!((m.pixel_accuracy(), m.mean_iou(), m.macro_f1()), (None, None, None));
    let mut m = ConfusionMatrix::new(4, None);
    m.update_indices(&[0, 1], &[0, 1]);
    close(m.mean_iou(), 1.0);
    assert_eq!(m.update_indices(&[7], &[0]), 1, "out-of-range prediction is reported");
}

#[test]
fn updates_from_logits_and_segmentation_maps() {
    let d = Default::default();
    // Two 1×2 "images", 2 classes: argmax over axis 1.
    let logits = Tensor::<NdArray, 4>::from_floats([[[[0.9, 0.1]], [[0.1, 0.9]]], [[[0.2, 0.3]], [[0.8, 0.1]]]], &d);
    let targets = Tensor::<NdArray, 3, Int>::from_ints([[[0, 1]], [[1, 1]]], &d);
    let mut m = ConfusionMatrix::new(2, None);
    m.update(logits, targets);
    // Predictions [[0,1]], [[1,0]] against [[0,1]], [[1,1]]: 3 of 4 right.
    close(m.pixel_accuracy(), 0.75);
    assert_eq!(m.count(1, 0), 1);
}

#[test]
fn accuracy_and_mean_stream() {
    let d = Default::default();
    let mut acc = Accuracy::default();
    acc.update(Tensor::<NdArray, 2>::from_floats([[1.0, 0.0], [0.0, 1.0]], &d), Tensor::from_ints([0, 0], &d));
    acc.update(Tensor::<NdArray, 2>::from_floats([[0.0, 1.0]], &d), Tensor::from_ints([1], &d));
    assert_eq!(acc.value(), Some(2.0 / 3.0));
    let mut mean = Mean::default();
    assert_eq!(mean.value(), None);
    mean.update(1.0, 3);
    assert_eq!(mean.value(), Some(1.0));
}

#[test]
fn top_k_counts_targets_among_the_k_best() {
    let d = Default::default();
    let logits =
        Tensor::<NdArray, 2>::from_floats([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1], [0.3, 0.1, 0.4, 0.2]], &d);
    let targets = Tensor::<NdArray, 1, Int>::from_ints([0, 0, 3], &d);
    // Ranks of the targets: 4th, 1st, 3rd.
    let value = |k| {
        let mut m = kiln_metrics::TopKAccuracy::new(k);
        m.update(logits.clone(), targets.clone());
        m.value().unwrap()
    };
    assert_eq!((value(1), value(2), value(3), value(4), value(9)), (1.0 / 3.0, 1.0 / 3.0, 2.0 / 3.0, 1.0, 1.0));
}

#[test]
fn perplexity_of_a_known_model() {
    // Two tokens with probabilities 1/2 and 1/8: mean NLL = (ln 2 + ln 8)/2 = 2 ln 2, perplexity 4, 2 bits.
    let mut lm = kiln_metrics::Perplexity::default();
    assert_eq!(lm.perplexity(), None);
    lm.update(2f64.ln(), 1);
    lm.update(8f64.ln(), 1);
    assert!((lm.perplexity().unwrap() - 4.0).abs() < 1e-12);
    assert!((lm.bits_per_token().unwrap() - 2.0).abs() < 1e-12);
}
