//! COCO AP/AR on scenes worked by hand with pycocotools' rules: 101 recall points
//! r = 0, 0.01, …, 1; precision made non-increasing from the right; at each r the precision where
//! recall first reaches r, 0 past the end. (pycocotools divides by tp + fp + 2⁻⁵², hence the
//! tolerance rather than equality.)

use kiln_metrics::{CocoEvaluator, CocoSummary, Detection, GroundTruth};

use super::close;

fn gt(bbox: [f64; 4]) -> GroundTruth {
    GroundTruth::new(1, bbox)
}

fn det(bbox: [f64; 4], score: f64) -> Detection {
    Detection::new(1, bbox, score)
}

fn one_image(gts: &[GroundTruth], dts: &[Detection]) -> CocoSummary {
    let mut coco = CocoEvaluator::new();
    coco.add_image(1, gts, dts);
    coco.summarize()
}

#[test]
fn perfect_detections_score_one_everywhere() {
    // Small (10²), medium (50²) and large (200²) objects in two categories and two images,
    // each found exactly; at most one object per image and category, so AR@1 is 1 too.
    let mut coco = CocoEvaluator::new();
    let small = [0.0, 0.0, 10.0, 10.0];
    let medium = [100.0, 100.0, 50.0, 50.0];
    let large = [300.0, 300.0, 200.0, 200.0];
    coco.add_image(
        1,
        &[GroundTruth::new(1, small), GroundTruth::new(2, medium)],
        &[Detection::new(2, medium, 0.6), Detection::new(1, small, 0.9)],
    );
    coco.add_image(2, &[GroundTruth::new(1, large)], &[Detection::new(1, large, 0.3)]);
    assert_eq!(coco.images(), 2);
    let s = coco.summarize();
    for value in s.stats() {
        close(Some(value), 1.0);
    }
    assert_eq!(s.category_ap.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
}

#[test]
fn true_duplicate_true_ladder_is_interpolated_at_101_points() {
    // Two objects A, B; detections: A (0.9), A again (0.8, a duplicate: A is taken, so a false
    // positive), B (0.7). IoUs are 1 or 0, so every threshold gives the same curve:
    //   recall    1/2, 1/2, 1
    //   precision 1,   1/2, 2/3  → envelope 1, 2/3, 2/3
    // r = 0 … 0.50 (51 points) first reached at rank 1 → 1; r = 0.51 … 1 (50 points) at rank 3 → 2/3.
    // AP = (51·1 + 50·2/3) / 101 = 253/303.
    let a = [0.0, 0.0, 50.0, 50.0];
    let b = [100.0, 0.0, 50.0, 50.0];
    let s = one_image(&[gt(a), gt(b)], &[det(a, 0.9), det(a, 0.8), det(b, 0.7)]);
    for ap in [s.ap, s.ap50, s.ap75, s.ap_medium] {
        close(ap, 253.0 / 303.0);
    }
    // Both objects are found within 10 detections; with 1 only A is.
    close(s.ar100, 1.0);
    close(s.ar10, 1.0);
    close(s.ar1, 0.5);
    assert_eq!((s.ap_small, s.ap_large, s.ar_small, s.ar_large), (None, None, None, None));
}

#[test]
fn iou_thresholds_decide_matches() {
    // A 100×100 object (large). Detection [0,0,100,h] inside it has IoU h/100.
    let object = [0.0, 0.0, 100.0, 100.0];
    let with_height = |h: f64| one_image(&[gt(object)], &[det([0.0, 0.0, 100.0, h], 0.9)]);

    // IoU 0.72: a match at 0.50, 0.55, 0.60, 0.65, 0.70 (AP 1) and not at 0.75 … 0.95 (AP 0).
    let s = with_height(72.0);
    close(s.ap50, 1.0);
    close(s.ap75, 0.0);
    close(s.ap, 5.0 / 10.0);
    close(s.ap_large, 0.5);
    close(s.ar100, 0.5);

    // IoU exactly 0.5 matches at 0.5 only (pycocotools keeps IoU ≥ threshold): AP = 1/10.
    let s = with_height(50.0);
    close(s.ap50, 1.0);
    close(s.ap, 0.1);
    // IoU 0.48 matches nowhere: one false positive, AP 0, recall 0.
    let s = with_height(48.0);
    close(s.ap50, 0.0);
    close(s.ap, 0.0);
    close(s.ar100, 0.0);
}

#[test]
fn area_ranges_ignore_out_of_range_objects_and_unmatched_detections() {
    // Objects: small S (10²), medium M (50²), large L (200²). Detections, by score:
    //   0.95 a small box on nothing (F), 0.9 on S, 0.8 on L, 0.7 on M.
    let s_box = [0.0, 0.0, 10.0, 10.0];
    let m_box = [100.0, 100.0, 50.0, 50.0];
    let l_box = [300.0, 300.0, 200.0, 200.0];
    let f_box = [600.0, 600.0, 10.0, 10.0];
    let s = one_image(
        &[gt(s_box), gt(m_box), gt(l_box)],
        &[det(f_box, 0.95), det(s_box, 0.9), det(l_box, 0.8), det(m_box, 0.7)],
    );
    // all: F, S, L, M = FP, TP, TP, TP over 3 objects: recall 0, 1/3, 2/3, 1; precision 0, 1/2,
    // 2/3, 3/4 → envelope 3/4 everywhere; every r is reached → AP = 3/4.
    close(s.ap, 0.75);
    close(s.ap50, 0.75);
    close(s.ar100, 1.0);
    // small: only S counts. F is small and unmatched → FP; L and M match objects ignored in this
    // range → ignored. FP, TP: envelope 1/2 at recall 1 → AP = 1/2.
    close(s.ap_small, 0.5);
    close(s.ar_small, 1.0);
    // medium: only M counts. F is unmatched and outside the range → ignored (not an FP); S and L
    // match ignored objects → ignored. M alone: AP = 1.
    close(s.ap_medium, 1.0);
    close(s.ar_medium, 1.0);
    // large: F, S, M ignored the same way; L alone: AP = 1.
    close(s.ap_large, 1.0);
    close(s.ar_large, 1.0);
}

#[test]
fn an_area_of_exactly_32_squared_is_small_and_medium() {
    // pycocotools' ranges [0, 32²] and [32², 96²] both include 32².
    let b = [0.0, 0.0, 32.0, 32.0];
    let s = one_image(&[gt(b)], &[det(b, 0.5)]);
    close(s.ap_small, 1.0);
    close(s.ap_medium, 1.0);
    assert_eq!(s.ap_large, None);
}

#[test]
fn max_dets_limit_recall_per_image() {
    // Image 1: three objects found by 0.9, 0.8, 0.7. Image 2: one object found by 0.6.
    let boxes = [[0.0, 0.0, 40.0, 40.0], [100.0, 0.0, 40.0, 40.0], [200.0, 0.0, 40.0, 40.0]];
    let mut coco = CocoEvaluator::new();
    coco.add_image(1, &boxes.map(gt), &[det(boxes[0], 0.9), det(boxes[1], 0.8), det(boxes[2], 0.7)]);
    coco.add_image(2, &[gt(boxes[0])], &[det(boxes[0], 0.6)]);
    let s = coco.summarize();
    // One detection per image: 2 of the 4 objects.
    close(s.ar1, 2.0 / 4.0);
    close(s.ar10, 1.0);
    close(s.ar100, 1.0);
    // Every detection is right: AP = 1.
    close(s.ap, 1.0);
}

#[test]
fn categories_without_ground_truth_are_left_out() {
    let b = [0.0, 0.0, 40.0, 40.0];
    let mut coco = CocoEvaluator::new();
    coco.add_image(
        1,
        &[GroundTruth::new(1, b), GroundTruth::new(3, b)],
        &[
            Detection::new(1, b, 0.9),
            // Category 2 has no ground truth anywhere: pycocotools' −1, not in the mean.
            Detection::new(2, b, 0.8),
        ],
    );
    let s = coco.summarize();
    // Category 1: AP 1, recall 1. Category 3: never detected, AP 0, recall 0.
    close(s.ap, 0.5);
    close(s.ar100, 0.5);
    assert_eq!(s.category_ap.len(), 2);
    close(s.category_ap.get(&1).copied(), 1.0);
    close(s.category_ap.get(&3).copied(), 0.0);
}

#[test]
fn crowd_regions_absorb_detections_without_counting() {
    // A crowd region and one ordinary object. Two detections inside the crowd (IoU with a crowd
    // is intersection / detection area = 1) are ignored, however many; the object is found.
    let crowd = [0.0, 0.0, 100.0, 100.0];
    let object = [300.0, 0.0, 50.0, 50.0];
    let s = one_image(
        &[GroundTruth::crowd(1, crowd), gt(object)],
        &[det([10.0, 10.0, 20.0, 20.0], 0.95), det([50.0, 50.0, 20.0, 20.0], 0.9), det(object, 0.8)],
    );
    // Without the crowd rule: FP, FP, TP → precision 1/3 everywhere, AP 1/3.
    close(s.ap, 1.0);
    close(s.ar100, 1.0);
    // A category whose only object is a crowd has nothing to recall: −1, here None.
    let s = one_image(&[GroundTruth::crowd(1, crowd)], &[det(crowd, 0.9)]);
    assert_eq!((s.ap, s.ar100), (None, None));
    assert_eq!(s.stats(), [-1.0; 12]);
}

#[test]
fn nothing_added_summarizes_to_none() {
    let s = CocoEvaluator::new().summarize();
    assert_eq!(s, CocoSummary::default());
}
