use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// How the four numbers of a box are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoxFormat {
    /// Corners: x1, y1, x2, y2.
    Xyxy,
    /// Top-left corner and size: x, y, w, h (COCO).
    Xywh,
    /// Centre and size: cx, cy, w, h (YOLO, DETR, CenterNet).
    Cxcywh,
}

/// The four columns of `[N, 4]` boxes, each `[N, 1]`.
pub(crate) fn columns<B: Backend>(boxes: Tensor<B, 2>) -> [Tensor<B, 2>; 4] {
    let [a, b, c, d]: [Tensor<B, 2>; 4] = boxes.chunk(4, 1).try_into().expect("boxes have 4 columns");
    [a, b, c, d]
}

/// Converts `[N, 4]` boxes between formats.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::prelude::*;
/// use kiln_vision::boxes::{convert, BoxFormat};
/// let xywh = Tensor::<NdArray, 2>::from_floats([[1.0, 2.0, 4.0, 6.0]], &Default::default());
/// let cxcywh = convert(xywh, BoxFormat::Xywh, BoxFormat::Cxcywh);
/// assert_eq!(cxcywh.into_data().to_vec::<f32>().unwrap(), vec![3.0, 5.0, 4.0, 6.0]);
/// ```
pub fn convert<B: Backend>(boxes: Tensor<B, 2>, from: BoxFormat, to: BoxFormat) -> Tensor<B, 2> {
    if from == to {
        return boxes;
    }
    let [x1, y1, x2, y2] = to_xyxy(boxes, from);
    let out = match to {
        BoxFormat::Xyxy => [x1, y1, x2, y2],
        BoxFormat::Xywh => [x1.clone(), y1.clone(), x2 - x1, y2 - y1],
        BoxFormat::Cxcywh => {
            let (w, h) = (x2.clone() - x1.clone(), y2.clone() - y1.clone());
            [(x1 + x2) / 2.0, (y1 + y2) / 2.0, w, h]
        }
    };
    Tensor::cat(out.to_vec(), 1)
}

fn to_xyxy<B: Backend>(boxes: Tensor<B, 2>, from: BoxFormat) -> [Tensor<B, 2>; 4] {
    let [a, b, c, d] = columns(boxes);
    match from {
        BoxFormat::Xyxy => [a, b, c, d],
        BoxFormat::Xywh => [a.clone(), b.clone(), a + c, b + d],
        BoxFormat::Cxcywh => {
            let (hw, hh) = (c / 2.0, d / 2.0);
            [a.clone() - hw.clone(), b.clone() - hh.clone(), a + hw, b + hh]
        }
    }
}

/// Areas `[N]` of `xyxy` boxes.
pub fn box_area<B: Backend>(boxes: Tensor<B, 2>) -> Tensor<B, 1> {
    let n = boxes.dims()[0];
    let [x1, y1, x2, y2] = columns(boxes);
    ((x2 - x1) * (y2 - y1)).reshape([n])
}
