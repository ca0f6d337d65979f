//! The detectors' backbone stages: ResNet basic blocks, each stage halving the resolution with
//! its first block (stride 2) and keeping it with the rest.

use burn::prelude::*;

use crate::blocks::{BasicBlock, BasicBlockConfig};

/// One stage of `blocks` (at least one) basic blocks per entry of `widths`, the first taking
/// `in_channels` (the stem's), each next stage the previous one's width.
pub fn basic_block_stages<B: Backend>(
    in_channels: usize,
    widths: &[usize],
    blocks: usize,
    device: &B::Device,
) -> Vec<Vec<BasicBlock<B>>> {
    let mut channels = in_channels;
    widths
        .iter()
        .map(|&out| {
            let stage = (0..blocks.max(1))
                .map(|i| {
                    let cin = if i == 0 { channels } else { out };
                    BasicBlockConfig::new(cin, out).with_stride(if i == 0 { 2 } else { 1 }).init(device)
                })
                .collect();
            channels = out;
            stage
        })
        .collect()
}
