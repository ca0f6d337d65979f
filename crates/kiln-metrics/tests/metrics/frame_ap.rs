//! Per-frame AP and calibrated AP on rankings worked by hand. AP = mean over positives of the
//! precision at their rank; cAP the same with cPrec = TP / (TP + FP/w), w = negatives/positives.

use kiln_metrics::FrameApMeter;

use super::close;

/// Frames of a two-class problem (background 0, action 1) whose action scores are `action`,
/// background score 1 − action, labelled 1 where `positive`.
fn binary(action: &[f64], positive: &[bool]) -> FrameApMeter {
    let scores: Vec<f64> = action.iter().flat_map(|&a| [1.0 - a, a]).collect();
    let labels: Vec<usize> = positive.iter().map(|&p| usize::from(p)).collect();
    let mut meter = FrameApMeter::new(2, Some(0));
    assert_eq!(meter.update(&scores, &labels), 0);
    meter
}

#[test]
fn ap_and_calibrated_ap_with_more_negatives() {
    // Ranked: +, −, +, −, −. P = 2, N = 3, w = 3/2.
    // AP  = (1/1 + 2/3) / 2 = 5/6.
    // cAP: rank 1 TP 1 FP 0 → 1; rank 3 TP 2 FP 1 → 2 / (2 + 1/(3/2)) = 2 / (8/3) = 3/4;
    //      (1 + 3/4) / 2 = 7/8.
    let m = binary(&[0.9, 0.8, 0.7, 0.6, 0.1], &[true, false, true, false, false]);
    close(m.average_precision(1), 5.0 / 6.0);
    close(m.calibrated_average_precision(1), 7.0 / 8.0);
    close(m.mean_ap(), 5.0 / 6.0);
    close(m.mean_calibrated_ap(), 7.0 / 8.0);
}

#[test]
fn calibrated_ap_equals_ap_when_classes_are_balanced() {
    // Ranked: +, −, +, −. P = N = 2, w = 1: cPrec is precision. AP = cAP = (1 + 2/3) / 2.
    let m = binary(&[0.9, 0.8, 0.7, 0.6], &[true, false, true, false]);
    close(m.average_precision(1), 5.0 / 6.0);
    close(m.calibrated_average_precision(1), 5.0 / 6.0);
}

#[test]
fn calibrated_ap_below_ap_with_more_positives() {
    // Ranked: −, +, +, +. P = 3, N = 1, w = 1/3.
    // AP  = (1/2 + 2/3 + 3/4) / 3 = (23/12) / 3 = 23/36.
    // cAP: cPrec = TP / (TP + 3·FP): 1/4, 2/5, 3/6 → (1/4 + 2/5 + 1/2) / 3 = (23/20) / 3 = 23/60.
    let m = binary(&[0.9, 0.8, 0.7, 0.6], &[false, true, true, true]);
    close(m.average_precision(1), 23.0 / 36.0);
    close(m.calibrated_average_precision(1), 23.0 / 60.0);
}

#[test]
fn tied_scores_form_one_step_whatever_the_frame_order() {
    // Three frames at one score, two positive: one step to TP 2, FP 1.
    // AP = (2/2)·(2/3) = 2/3 (frame by frame it would be 5/6, 7/12 or 1 depending on order).
    // cAP: P = 2, N = 1, w = 1/2: cPrec = 2 / (2 + 1/(1/2)) = 1/2, times recall 1 → 1/2.
    for positive in [[true, false, true], [false, true, true], [true, true, false]] {
        let m = binary(&[0.5, 0.5, 0.5], &positive);
        close(m.average_precision(1), 2.0 / 3.0);
        close(m.calibrated_average_precision(1), 0.5);
    }
}

#[test]
fn background_and_classes_without_positives_stay_out_of_the_mean() {
    // Classes: 0 background, 1 and 2 actions, 3 never occurs.
    // Class scores per frame; labels 1, 0, 2, 0.
    let scores = [
        0.1, 0.7, 0.1, 0.1, // label 1
        0.2, 0.6, 0.1, 0.1, // label 0
        0.1, 0.2, 0.6, 0.1, // label 2
        0.1, 0.1, 0.3, 0.5, // label 0
    ];
    let labels = [1, 0, 2, 0];
    // Class 1 ranks its frame first: AP 1. Class 2 ranks its frame first: AP 1.
    // Background ranks by 0.2, 0.1, 0.1, 0.1: frame 1 (+) first, then a tie of frames 0, 2, 3
    // (one +): steps (TP 1, FP 0) and (TP 2, FP 2) → AP = (1 + 2/4) / 2 = 3/4.
    let mut with_background = FrameApMeter::new(4, Some(0));
    with_background.update(&scores, &labels);
    close(with_background.average_precision(0), 0.75);
    assert_eq!(with_background.average_precision(3), None, "no positive frame");
    close(with_background.mean_ap(), 1.0);

    let mut all = FrameApMeter::new(4, None);
    all.update(&scores, &labels);
    close(all.mean_ap(), (0.75 + 1.0 + 1.0) / 3.0);
}

#[test]
fn streaming_matches_one_batch_and_multi_hot_matches_labels() {
    let scores = [0.9f32, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7];
    let labels = [0, 1, 1, 0];
    let mut whole = FrameApMeter::new(2, None);
    whole.update(&scores, &labels);
    let mut parts = FrameApMeter::new(2, None);
    parts.update(&scores[..2], &labels[..1]);
    parts.update(&scores[2..], &labels[1..]);
    let mut hot = FrameApMeter::new(2, None);
    hot.update_multi_hot(&scores[..4], &[true, false, false, true]);
    hot.update_multi_hot(&scores[4..], &[false, true, true, false]);
    // Class 1 scores 0.1, 0.8, 0.4, 0.7 with positives at 0.8 and 0.4: ranked +, −, +, −, AP 5/6.
    for m in [&whole, &parts, &hot] {
        assert_eq!(m.frames(), 4);
        close(m.average_precision(1), 5.0 / 6.0);
    }
}

#[test]
fn out_of_range_labels_are_skipped_and_the_ignored_class_dropped() {
    // THUMOS-style: class 2 "ambiguous" frames are dropped and class 2 leaves the mean.
    let mut m = FrameApMeter::new(3, Some(0)).ignoring(2);
    let scores = [0.1, 0.9, 0.0, 0.1, 0.2, 0.7, 0.5, 0.5, 0.0, 0.2, 0.3, 0.5];
    // Frame 3's label 7 is out of range.
    assert_eq!(m.update(&scores, &[1, 2, 0, 7]), 1);
    assert_eq!(m.frames(), 2);
    // Class 1 over frames 0 (+, 0.9) and 2 (−, 0.5): AP 1.
    close(m.mean_ap(), 1.0);
    assert_eq!(m.average_precision(2), None);
    assert_eq!(FrameApMeter::new(3, None).mean_ap(), None);
}
