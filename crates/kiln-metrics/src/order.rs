//! The score order shared by the ranking metrics, so that their results never depend on how a
//! sort treats NaN or signed zeros.

use std::cmp::Ordering;

/// Highest score first; NaN after every number (numpy's `argsort(-score)` puts NaN last) and
/// −0 equal to +0. A total order, so a stable sort by it is deterministic.
pub(crate) fn descending(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => b.partial_cmp(&a).unwrap_or(Ordering::Equal),
    }
}
