//! Angular statistics on embeddings placed at known angles.

use kiln_metrics::AngularStats;

fn at(degrees: f64, length: f64) -> [f64; 2] {
    let r = degrees.to_radians();
    [length * r.cos(), length * r.sin()]
}

#[test]
fn angles_of_embeddings_placed_by_hand() {
    // Class 0 at ±10° around the x-axis, class 1 at 90° ± 20°; lengths differ on purpose
    // (only directions count). Centres: 0° and 90°; intra angles 10, 10, 20, 20 → mean 15°.
    let rows: Vec<f64> = [at(10.0, 1.0), at(-10.0, 3.0), at(110.0, 0.5), at(70.0, 2.0)].concat();
    let mut stats = AngularStats::default();
    stats.update_rows(&rows[..4], 2, &[0, 0]);
    stats.update_rows(&rows[4..], 2, &[1, 1]);
    assert!((stats.mean_intra_class_angle().unwrap() - 15.0).abs() < 1e-9);
    assert!((stats.min_inter_class_angle().unwrap() - 90.0).abs() < 1e-9);
}

#[test]
fn the_smallest_centre_gap_is_reported() {
    // Three classes at 0°, 40° and 150°: gaps 40°, 110°, 150° → 40°.
    let rows: Vec<f64> = [at(0.0, 1.0), at(40.0, 1.0), at(150.0, 1.0)].concat();
    let mut stats = AngularStats::default();
    stats.update_rows(&rows, 2, &[0, 1, 2]);
    assert!((stats.min_inter_class_angle().unwrap() - 40.0).abs() < 1e-9);
    assert_eq!(stats.mean_intra_class_angle(), Some(0.0));
}

#[test]
fn undefined_without_samples_or_a_second_class() {
    let mut stats = AngularStats::default();
    assert_eq!(stats.mean_intra_class_angle(), None);
    stats.update_rows(&[1.0, 0.0], 2, &[4]);
    assert_eq!(stats.min_inter_class_angle(), None);
}

#[test]
fn tensors_and_rows_agree() {
    use burn::backend::NdArray;
    use burn::prelude::*;
    let device = Default::default();
    let e = Tensor::<NdArray, 2>::from_floats([[1.0, 0.0], [0.0, 2.0]], &device);
    let t = Tensor::<NdArray, 1, Int>::from_ints([0, 1], &device);
    let mut stats = AngularStats::default();
    stats.update(e, t);
    assert!((stats.min_inter_class_angle().unwrap() - 90.0).abs() < 1e-6);
}
