//! IoU and its refinements for boxes that do not overlap or are not aligned:
//! GIoU (Rezatofighi et al. 2019, Alg. 1), DIoU and CIoU (Zheng et al. 2020, Eqs. 6, 9–11).

use std::f64::consts::PI;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::format::columns;

/// Keeps divisions finite for empty and degenerate boxes.
const EPS: f64 = 1e-7;

/// Which overlap measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    /// |A∩B| / |A∪B|.
    Iou,
    /// IoU − |C∖(A∪B)| / |C|, C the smallest enclosing box: negative for disjoint boxes.
    Giou,
    /// IoU − ρ²(b, b_gt) / c²: centre distance over the enclosing box's squared diagonal.
    Diou,
    /// DIoU − α·v, v = 4/π²·(arctan(w_gt/h_gt) − arctan(w/h))², α = v / ((1 − IoU) + v),
    /// α held constant in the gradient as the paper prescribes.
    Ciou,
}

/// The measure between every box of `a` `[N, 4]` and every box of `b` `[M, 4]`: `[N, M]`.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::boxes::{pairwise_overlap, Overlap};
/// let d = Default::default();
/// let a = Tensor::<NdArray, 2>::from_floats([[0.0, 0.0, 2.0, 2.0]], &d);
/// let b = Tensor::<NdArray, 2>::from_floats([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0]], &d);
/// let iou: Vec<f32> = pairwise_overlap(a, b, Overlap::Iou).into_data().to_vec().unwrap();
/// assert!((iou[0] - 1.0 / 7.0).abs() < 1e-6 && (iou[1] - 1.0).abs() < 1e-6);
/// ```
pub fn pairwise_overlap<B: Backend>(a: Tensor<B, 2>, b: Tensor<B, 2>, kind: Overlap) -> Tensor<B, 2> {
    let (n, m) = (a.dims()[0], b.dims()[0]);
    let rows = columns(a).map(|c| c.expand([n, m]));
    let cols = columns(b).map(|c| c.reshape([1, m]).expand([n, m]));
    measure(rows, cols, kind)
}

/// The measure between matched pairs `a[i]`, `b[i]` of `[N, 4]` boxes: `[N]`.
pub fn paired_overlap<B: Backend>(a: Tensor<B, 2>, b: Tensor<B, 2>, kind: Overlap) -> Tensor<B, 1> {
    let n = a.dims()[0];
    measure(columns(a), columns(b), kind).reshape([n])
}

/// `min(a, b)` as `(a + b − |a − b|)/2`: at a tie its gradient splits evenly between the two
/// sides (|x|' = 0 at 0), where `min_pair` sends all of it to one. With the whole gradient on one
/// side, the IoU family's gradient at prediction == target is ±1/w instead of zero, so a box
/// regressed onto its target would be pushed off it again.
fn even_min<B: Backend>(a: Tensor<B, 2>, b: Tensor<B, 2>) -> Tensor<B, 2> {
    (a.clone() + b.clone() - (a - b).abs()) * 0.5
}

/// `max(a, b)` as `(a + b + |a − b|)/2`, for the same reason as [`even_min`].
fn even_max<B: Backend>(a: Tensor<B, 2>, b: Tensor<B, 2>) -> Tensor<B, 2> {
    (a.clone() + b.clone() + (a - b).abs()) * 0.5
}

fn measure<B: Backend>(a: [Tensor<B, 2>; 4], b: [Tensor<B, 2>; 4], kind: Overlap) -> Tensor<B, 2> {
    let [ax1, ay1, ax2, ay2] = a;
    let [bx1, by1, bx2, by2] = b;
    let (aw, ah) = (ax2.clone() - ax1.clone(), ay2.clone() - ay1.clone());
    let (bw, bh) = (bx2.clone() - bx1.clone(), by2.clone() - by1.clone());
    let inter_w = (even_min(ax2.clone(), bx2.clone()) - even_max(ax1.clone(), bx1.clone())).clamp_min(0.0);
    let inter_h = (even_min(ay2.clone(), by2.clone()) - even_max(ay1.clone(), by1.clone())).clamp_min(0.0);
    let inter = inter_w * inter_h;
    let union = aw.clone() * ah.clone() + bw.clone() * bh.clone() - inter.clone();
    let iou = inter / (union.clone() + EPS);
    if kind == Overlap::Iou {
        return iou;
    }
    // The smallest box enclosing both.
    let enclose_w = even_max(ax2.clone(), bx2.clone()) - even_min(ax1.clone(), bx1.clone());
    let enclose_h = even_max(ay2.clone(), by2.clone()) - even_min(ay1.clone(), by1.clone());
    if kind == Overlap::Giou {
        let enclose = enclose_w * enclose_h;
        return iou - (enclose.clone() - union) / (enclose + EPS);
    }
    let diagonal = enclose_w.powf_scalar(2.0) + enclose_h.powf_scalar(2.0) + EPS;
    let centre_dx = (ax1 + ax2 - bx1 - bx2) / 2.0;
    let centre_dy = (ay1 + ay2 - by1 - by2) / 2.0;
    let diou = iou.clone() - (centre_dx.powf_scalar(2.0) + centre_dy.powf_scalar(2.0)) / diagonal;
    if kind == Overlap::Diou {
        return diou;
    }
    let angle = (bw / (bh + EPS)).atan() - (aw / (ah + EPS)).atan();
    let v = angle.powf_scalar(2.0) * (4.0 / (PI * PI));
    let alpha = (v.clone() / (iou.neg() + 1.0 + v.clone() + EPS)).detach();
    diou - alpha * v
}
