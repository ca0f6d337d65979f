//! kiln-generative against closed forms, hand-worked steps and diffusers' published numbers.

use burn::backend::NdArray;
use burn::prelude::*;

type B = NdArray;

#[path = "generative/diffusers.rs"]
mod diffusers;
#[path = "generative/gaussian.rs"]
mod gaussian;
