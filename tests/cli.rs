//! The `kiln` binary end to end: exit codes, one-paragraph errors, and a short real run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn kiln(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln")).args(args).current_dir(repo()).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A user error: exit code 2 and one paragraph on stderr, never a panic trace.
fn assert_user_error(o: &Output, needle: &str) {
    let text = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {text}");
    assert!(text.contains(needle), "'{needle}' not in: {text}");
    assert!(!text.contains("panicked") && !text.contains("RUST_BACKTRACE"), "{text}");
    assert_eq!(text.trim_end().lines().count(), 1, "not one paragraph: {text}");
}

fn write_config(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("experiments/mnist-lenet5.toml")).unwrap();
    let path = dir.join("exp.toml");
    std::fs::write(&path, edit(text)).unwrap();
    path
}

#[test]
fn config_typo_is_a_one_paragraph_error_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), |t| t.replace("lr = ", "lerning_rate = "));
    let o = kiln(&["run", path.to_str().unwrap()]);
    assert_user_error(&o, "unknown key 'lerning_rate' in [optim]; did you mean 'lr'?");
    assert!(stderr(&o).contains("exp.toml:"), "no file:line in {}", stderr(&o));
}

#[test]
fn missing_dataset_is_a_clear_error() {
    let o = kiln(&["run", "experiments/mnist-lenet5.toml", "--set", "data.root=/nonexistent/mnist"]);
    assert_user_error(&o, "no MNIST train images found in '/nonexistent/mnist'");
}

#[test]
fn backend_not_built_names_the_feature() {
    let o = kiln(&["run", "experiments/mnist-lenet5.toml", "--backend", "cuda"]);
    if cfg!(feature = "cuda") {
        return;
    }
    assert_user_error(&o, "--features cuda");
}

#[test]
fn models_json_reports_lenet5() {
    let o = kiln(&["models", "--json", "--input", "1x28x28"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let models: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let lenet = models.as_array().unwrap().iter().find(|m| m["name"] == "lenet5").unwrap();
    assert_eq!(lenet["parameters"], 61_706);
    // ViT-B/16's 16×16 patches do not tile 28×28: listed, marked, not an error.
    let vit = models.as_array().unwrap().iter().find(|m| m["name"] == "vit_b16").unwrap();
    assert!(vit["parameters"].is_null() && vit["unavailable"].as_str().unwrap().contains("patch_size 16"), "{vit}");
    assert_user_error(&kiln(&["models", "vit_b16", "--input", "1x28x28"]), "not a multiple of patch_size 16");
    assert_user_error(&kiln(&["models", "--input", "28x28"]), "is not CxHxW");
}

#[test]
fn config_show_prints_the_resolved_config() {
    let o = kiln(&["config", "show", "experiments/mnist-lenet5.toml", "--set", "optim.lr=0.5", "--backend", "ndarray"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let shown: toml::Table = toml::from_str(&String::from_utf8_lossy(&o.stdout)).unwrap();
    assert_eq!(shown["optim"]["lr"].as_float(), Some(0.5));
    assert_eq!(shown["train"]["backend"].as_str(), Some("ndarray"));
    assert_eq!(shown["data"]["num_workers"].as_integer(), Some(1), "defaults are filled in");
}

#[test]
fn a_short_run_then_eval_and_reproduce() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = format!("experiment.output_dir={}", out.path().display());
    let common = ["--backend", "ndarray", "--set", "data.limit=200", "--set", "train.epochs=1", "--set", &out_dir];
    let mut args = vec!["run", "experiments/mnist-lenet5.toml"];
    args.extend(common);
    let o = kiln(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let run_dir = std::fs::read_dir(out.path().join("mnist-lenet5")).unwrap().next().unwrap().unwrap().path();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("summary.json")).unwrap()).unwrap();
    let accuracy = summary["metrics"]["test/accuracy"].as_f64().unwrap();

    // Evaluating the final checkpoint again gives the run's own test accuracy.
    let o = kiln(&["eval", run_dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let line = String::from_utf8_lossy(&o.stdout).lines().find(|l| l.contains("test/accuracy")).unwrap().to_string();
    let evaluated: f64 = line.split_whitespace().last().unwrap().parse().unwrap();
    assert!((evaluated - accuracy).abs() < 1e-4, "eval {evaluated} vs run {accuracy}");

    // One epoch on 200 digits is far from the paper: reproduce says so with exit code 1.
    let mut args = vec!["reproduce", "experiments/mnist-lenet5.toml"];
    args.extend(common);
    let o = kiln(&args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("test/accuracy") && table.contains("0.9905") && table.contains("NOT REPRODUCED"), "{table}");
}
