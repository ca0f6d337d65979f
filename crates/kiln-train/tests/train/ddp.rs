//! DDP in one process: the property that defines it (two peers with batch b end where one
//! device with batch 2b ends), resume, divergence, sharding and config checks. Several
//! processes under mpirun are in tests/cli.rs (they need the kiln binary).

use std::path::Path;
use std::sync::Mutex;

use kiln_train::checkpoint;
use kiln_train::config::Devices;
use kiln_train::ddp::{shard_order, steps_per_epoch};
use kiln_train::progress::Silent;
use kiln_train::run::run_experiment;

use super::*;

/// burn-collective keeps one server per backend type per process; DDP tests take turns.
static COLLECTIVE: Mutex<()> = Mutex::new(());

pub fn collective() -> std::sync::MutexGuard<'static, ()> {
    COLLECTIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// LeNet-5 (no dropout) on 96 training digits, no augmentation: with 2 peers of 16 or one
/// device of 32 an epoch is three full batches.
fn lenet_toml(out: &Path, batch_size: usize, train: &str) -> String {
    experiment_toml(out, "ndarray", train)
        .replace("batch_size = 32", &format!("batch_size = {batch_size}"))
        .replace("augment_shift = 1", "augment_shift = 0")
}

fn final_weights(run_dir: &str) -> Vec<f32> {
    let ck = checkpoint::latest(&Path::new(run_dir).join("checkpoints")).unwrap().unwrap();
    weights_of(&ck)
}

fn weights_of(ck: &checkpoint::CheckpointReader) -> Vec<f32> {
    type B = burn::backend::NdArray;
    let device = Default::default();
    let model = kiln_vision::EmbeddingClassifier::new(kiln_vision::LeNet5Config::new().init::<B>(&device), None);
    flat_weights(&ck.module("model", model).unwrap())
}

#[test]
fn two_peers_of_b_end_with_the_weights_of_one_device_of_2b() {
    let _turn = collective();
    let out = tempfile::tempdir().unwrap();
    let single = config(&lenet_toml(out.path(), 32, "")).unwrap();
    let ddp = config(&lenet_toml(out.path(), 16, "strategy = \"ddp\"\ndevices = 2")).unwrap();
    let a = run_experiment(&single, None, &mut Silent).unwrap();
    let b = run_experiment(&ddp, None, &mut Silent).unwrap();
    assert_eq!((b.strategy.as_str(), b.devices), ("ddp", 2));
    let (wa, wb) = (final_weights(&a.run_dir), final_weights(&b.run_dir));
    assert_eq!(wa.len(), 61_706);
    // The second epoch's three steps moved the weights far more than the tolerance.
    let epoch1 = checkpoint::CheckpointReader {
        dir: Path::new(&a.run_dir).join("checkpoints/epoch-0001"),
        state: Default::default(),
    };
    assert!(relative_error(&wa, &weights_of(&epoch1)) > 1e-3, "training did not change the weights");
    let err = relative_error(&wa, &wb);
    assert!(err < 1e-5, "2 peers × 16 vs 1 device × 32: relative weight error {err:e}");
    // One round per tensor sums the same values as the one buffer, element by element.
    let per_tensor =
        format!("{}\n[ddp]\nexchange = \"per_tensor\"", lenet_toml(out.path(), 16, "strategy = \"ddp\"\ndevices = 2"));
    let c = run_experiment(&config(&per_tensor).unwrap(), None, &mut Silent).unwrap();
    assert_eq!(final_weights(&c.run_dir), wb, "per-tensor and one-buffer exchanges differ");
    // Six optimizer steps (three per epoch) in both runs, and the same training loss.
    let (ha, hb) = (a.metrics["train/loss"], b.metrics["train/loss"]);
    assert!((ha - hb).abs() < 1e-4 * ha.abs(), "train loss {ha} vs {hb}");
}

#[test]
fn a_killed_ddp_run_resumes_on_every_peer() {
    let _turn = collective();
    let out = tempfile::tempdir().unwrap();
    let cfg = config(&lenet_toml(out.path(), 16, "strategy = \"ddp\"\ndevices = [0, 0]")).unwrap();
    assert_eq!(cfg.train.devices, Devices::List(vec![0, 0]));
    let whole = run_experiment(&cfg, None, &mut Silent).unwrap();
    let killed = out.path().join("killed");
    copy_dir(Path::new(&whole.run_dir), &killed);
    std::fs::remove_dir_all(killed.join("checkpoints/epoch-0002")).unwrap();
    std::fs::remove_file(killed.join("summary.json")).unwrap();
    let resumed = run_experiment(&cfg, Some(&killed), &mut Silent).unwrap();
    assert_eq!(resumed.epochs_completed, 2);
    assert_eq!(final_weights(&whole.run_dir), final_weights(resumed.run_dir.as_str()));
    assert_eq!(whole.metrics, resumed.metrics);
}

#[test]
fn a_non_finite_loss_stops_every_peer_with_the_divergence_error() {
    let _turn = collective();
    let out = tempfile::tempdir().unwrap();
    // One global batch of 96 per epoch; a learning rate of 1e38 overflows after the first step.
    let text = lenet_toml(out.path(), 48, "strategy = \"ddp\"\ndevices = 2")
        .replace("lr = 1e-3", "lr = 1e38")
        .replace("name = \"adamw\"", "name = \"sgd\"")
        .replace("name = \"cosine\"", "name = \"constant\"");
    let e = run_experiment(&config(&text).unwrap(), None, &mut Silent).unwrap_err();
    assert!(matches!(e, KilnError::NonFiniteLoss { epoch: 2, .. }), "{e}");
}

#[test]
fn a_global_batch_larger_than_the_data_is_refused() {
    let _turn = collective();
    let out = tempfile::tempdir().unwrap();
    let cfg = config(&lenet_toml(out.path(), 64, "strategy = \"ddp\"\ndevices = 2")).unwrap();
    let e = run_experiment(&cfg, None, &mut Silent).unwrap_err();
    assert!(e.to_string().contains("do not fill one global batch of 128"), "{e}");
}

#[test]
fn shards_split_every_full_global_batch_among_ranks() {
    let order: Vec<usize> = (100..123).collect(); // 23 examples
    let (b, world) = (3, 3);
    assert_eq!(steps_per_epoch(order.len(), b, world), 2);
    let shards: Vec<Vec<usize>> = (0..world).map(|r| shard_order(&order, b, r, world)).collect();
    assert_eq!(shards[0], vec![100, 101, 102, 109, 110, 111]);
    assert_eq!(shards[2], vec![106, 107, 108, 115, 116, 117]);
    let mut all: Vec<usize> = shards.concat();
    all.sort();
    assert_eq!(all, (100..118).collect::<Vec<_>>(), "the 5 examples past the last full batch are dropped");
}

#[test]
fn ddp_settings_are_checked_when_the_file_is_loaded() {
    let out = tempfile::tempdir().unwrap();
    let text = |train: &str, ddp: &str| format!("{}\n{ddp}", lenet_toml(out.path(), 16, train));
    let e = config(&text("devices = 2", "")).unwrap_err();
    assert!(e.to_string().contains("needs strategy = \"ddp\""), "{e}");
    let e = config(&text("strategy = \"ddp\"", "[ddp]\nnodes = 2")).unwrap_err();
    assert!(e.to_string().contains("'nodes' in [ddp] is gone") && e.to_string().contains("mpirun -np 2"), "{e}");
    let e = config(&text("strategy = \"ddp\"", "[ddp]\ntimeout = 5")).unwrap_err();
    assert!(e.to_string().contains("unknown key 'timeout' in [ddp]"), "{e}");
    let e = config(&text("strategy = \"ddp\"", "[ddp]\nlocal_all_reduce = \"rings\"")).unwrap_err();
    assert!(e.to_string().contains("ring"), "{e}");
    let c = config(&text("strategy = \"ddp\"\ndevices = 3", "[ddp]\nlocal_all_reduce = \"ring\"\ntimeout_seconds = 5"))
        .unwrap();
    assert_eq!((c.train.devices.count(), c.ddp.timeout_seconds), (3, 5.0));
}
