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
    // LeNet-5's fully connected layers fix its input: 32×32 leaves 2×2 maps before C5's output.
    assert_user_error(&kiln(&["models", "lenet5", "--input", "1x32x32"]), "take 28×28");
    let o = kiln(&["models", "--json", "--input", "1x32x32"]);
    let models: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let lenet = models.as_array().unwrap().iter().find(|m| m["name"] == "lenet5").unwrap();
    assert!(lenet["parameters"].is_null(), "{lenet}");
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

    // A reproduction cut short (a time-limited machine) continues the same run with more epochs.
    let mut args = vec!["reproduce", "experiments/mnist-lenet5.toml", "--resume", run_dir.to_str().unwrap()];
    args.extend(common);
    args.extend(["--set", "train.epochs=2"]);
    let o = kiln(&args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("run: {}", run_dir.display())));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["epochs_completed"], 2);
}

#[test]
fn bench_with_ddp_reports_total_throughput_and_scaling() {
    let args = ["bench", "--model", "lenet5", "--backend", "ndarray", "--batch-size", "4", "--steps", "2"];
    let o = kiln(&[&args[..], &["--warmup", "0", "--strategy", "ddp", "--devices", "2", "--json"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((report["strategy"].as_str(), report["devices"].as_u64()), (Some("ddp"), Some(2)));
    // Both peers' samples count: 2 devices × batch 4 per step.
    let (total, steps) = (report["samples_per_second"].as_f64().unwrap(), report["steps_per_second"].as_f64().unwrap());
    assert!((total - 8.0 * steps).abs() < 1e-6 * total, "{report}");
    let (single, efficiency) =
        (report["single_device_samples_per_second"].as_f64().unwrap(), report["scaling_efficiency"].as_f64().unwrap());
    assert!((efficiency - total / (2.0 * single)).abs() < 1e-9, "{report}");
    assert_user_error(&kiln(&[&args[..], &["--devices", "2"]].concat()), "--devices > 1 needs --strategy ddp");
}

#[test]
fn bench_compare_pytorch_times_both_sides_and_divides() {
    // tests/run.sh puts the torch==2.9.0 virtualenv first on PATH, so `python3` has torch.
    let args = ["bench", "--model", "lenet5", "--backend", "ndarray", "--batch-size", "8", "--steps", "2"];
    let o = kiln(&[&args[..], &["--warmup", "0", "--compare", "pytorch", "--json"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let (kiln_ms, torch_ms) = (report["step_ms"].as_f64().unwrap(), report["pytorch"]["step_ms"].as_f64().unwrap());
    assert!(torch_ms > 0.0 && report["pytorch"]["device"] == "cpu", "{report}");
    assert!((report["ratio_to_pytorch"].as_f64().unwrap() - kiln_ms / torch_ms).abs() < 1e-9, "{report}");
    assert!(report["pytorch"]["torch"].as_str().unwrap().contains("lenet5: 61706 parameters"), "{report}");
    // Without a Python to run it, the PyTorch side is a one-paragraph error.
    let o = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args([&args[..], &["--compare", "pytorch"]].concat())
        .env("KILN_PYTHON", "/nonexistent/python3")
        .current_dir(repo())
        .output()
        .unwrap();
    assert_user_error(&o, "--compare pytorch: cannot start /nonexistent/python3");
}

#[test]
fn bench_times_language_models_on_random_windows_beside_pytorch() {
    let args = ["bench", "--backend", "ndarray", "--batch-size", "2", "--steps", "1", "--warmup", "0", "--json"];
    let o = kiln(&[&args[..], &["--model", "lstm_lm", "--seq-len", "8", "--vocab", "20"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["input"]["tokens"], serde_json::json!({"seq_len": 8, "vocab": 20}), "{report}");
    let (tokens, windows) =
        (report["tokens_per_second"].as_f64().unwrap(), report["samples_per_second"].as_f64().unwrap());
    assert!((tokens - 8.0 * windows).abs() < 1e-9 * tokens, "{report}");
    // The PyTorch copy has kiln's parameter count, worked out by hand from the layers: per block
    // 4 · (256² + 256) attention + 2 · 512 norms + (256 · 1024 + 1024) + (1024 · 256 + 256) MLP
    // = 789,760; four blocks, the final norm (512), the tied embedding 20 · 256 and its bias 20.
    let o = kiln(
        &[&args[..], &["--model", "transformer_lm", "--seq-len", "8", "--vocab", "20", "--compare", "pytorch"]]
            .concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let want = 4 * 789_760 + 512 + 20 * 256 + 20;
    let torch = report["pytorch"]["torch"].as_str().unwrap();
    assert!(torch.contains(&format!("transformer_lm: {want} parameters")), "{report}");
    let too_long = kiln(&[&args[..], &["--model", "transformer_lm", "--seq-len", "300"]].concat());
    assert_user_error(&too_long, "--seq-len 300 is longer than transformer_lm's max_len 256");
    assert_user_error(
        &kiln(&[&args[..], &["--model", "lstm_lm", "--input", "1x28x28"]].concat()),
        "--input is for image models",
    );
}

#[test]
fn a_device_the_backend_or_machine_lacks_is_refused_before_anything_runs() {
    let o = kiln(&["run", "experiments/mnist-lenet5.toml", "--backend", "ndarray", "--device", "cuda:0"]);
    assert_user_error(&o, "train.device: backend 'ndarray' has no device 'cuda:0'; it takes cpu");
    let o = kiln(&["run", "experiments/mnist-lenet5.toml", "--device", "tpu:0"]);
    assert_user_error(&o, "unknown device 'tpu:0'");
    if cfg!(feature = "tch") {
        // No machine has a hundredth CUDA device: the error says what LibTorch sees and why.
        let o = kiln(&["bench", "--model", "lenet5", "--backend", "tch", "--device", "cuda:99", "--steps", "1"]);
        assert_user_error(&o, "device cuda:99 was asked for and LibTorch sees");
    }
}

#[test]
fn wgpu_keeps_cubecls_autotune_results_in_kilns_cache_directory() {
    if !cfg!(feature = "wgpu") {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let args =
        ["bench", "--model", "lenet5", "--backend", "wgpu", "--batch-size", "4", "--steps", "1", "--warmup", "0"];
    let o = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .env("KILN_CACHE_DIR", cache.path())
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let autotune = cache.path().join("cubecl/autotune");
    let files = walk(&autotune);
    assert!(!files.is_empty(), "nothing under {}", autotune.display());
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.flatten().flat_map(|e| if e.path().is_dir() { walk(&e.path()) } else { vec![e.path()] }).collect()
}

/// DDP across processes: `mpirun` on loopback starting `kiln run` ranks (the `mpi` feature).
#[cfg(feature = "mpi")]
mod multi_process {
    use super::*;
    use std::process::{Child, Stdio};
    use std::time::{Duration, Instant};

    /// A child process that is killed when the test ends, however it ends.
    struct Running(Child);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// mpirun with what a container needs: root allowed, loopback TCP only (no shared-memory
    /// transport, no other interfaces), more ranks than cores allowed.
    fn mpirun() -> Command {
        let mut command = Command::new("mpirun");
        command.args([
            "--allow-run-as-root",
            "--oversubscribe",
            "--mca",
            "btl",
            "self,tcp",
            "--mca",
            "btl_tcp_if_include",
            "lo",
            "--mca",
            "oob_tcp_if_include",
            "lo",
        ]);
        command.current_dir(repo());
        command
    }

    /// `mpirun -np ranks kiln <args>`, run to the end.
    fn mpirun_kiln(ranks: usize, args: &[String]) -> Output {
        let mut command = mpirun();
        command.args(["-np", &ranks.to_string(), env!("CARGO_BIN_EXE_kiln")]).args(args);
        command.output().unwrap()
    }

    fn spawn_mpirun_kiln(ranks: usize, args: &[String]) -> Running {
        let mut command = mpirun();
        command.args(["-np", &ranks.to_string(), env!("CARGO_BIN_EXE_kiln")]).args(args);
        Running(command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap())
    }

    /// Waits for the process to exit, at most `limit`; returns its exit code, stderr and the wait.
    fn finish(mut p: Running, limit: Duration) -> (Option<i32>, String, Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = p.0.try_wait().unwrap() {
                let mut text = String::new();
                std::io::Read::read_to_string(p.0.stderr.as_mut().unwrap(), &mut text).unwrap();
                return (status.code(), text, start.elapsed());
            }
            assert!(start.elapsed() < limit, "still running after {limit:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn weights(run_dir: &Path) -> Vec<f32> {
        use burn::module::{Module, ModuleVisitor, Param};
        use burn::prelude::{Backend, Tensor};
        struct Flatten(Vec<f32>);
        impl<B: Backend> ModuleVisitor<B> for Flatten {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
                self.0.extend(param.val().into_data().convert::<f32>().to_vec::<f32>().unwrap());
            }
        }
        type B = burn::backend::NdArray;
        let device = Default::default();
        let ck = kiln_train::checkpoint::latest(&run_dir.join("checkpoints")).unwrap().unwrap();
        let model = kiln_vision::EmbeddingClassifier::new(kiln_vision::LeNet5Config::new().init::<B>(&device), None);
        let model = ck.module("model", model).unwrap();
        let mut flat = Flatten(Vec::new());
        model.visit(&mut flat);
        flat.0
    }

    fn relative_error(a: &[f32], b: &[f32]) -> f64 {
        assert_eq!(a.len(), b.len());
        let diff: f64 = a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum();
        let norm: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum();
        (diff / norm).sqrt()
    }

    fn run_dirs(out: &Path) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(out.join("mnist-lenet5")) else { return Vec::new() };
        let mut dirs: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        dirs.sort();
        dirs
    }

    /// `kiln run` LeNet-5 on `limit` digits (90% train), no augmentation, into `out`.
    fn run_args(out: &Path, limit: usize, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = [
            "run",
            "experiments/mnist-lenet5.toml",
            "--backend=ndarray",
            "--set=data.augment_shift=0",
            "--set=train.strategy=\"ddp\"",
        ]
        .map(String::from)
        .to_vec();
        args.push(format!("--set=data.limit={limit}"));
        args.push(format!("--set=experiment.output_dir={}", out.display()));
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// 180 training digits in global batches of 60, 2 epochs, split four ways.
    #[test]
    fn two_ranks_equal_two_local_devices_equal_one_device_of_the_whole_batch() {
        let epochs = "--set=train.epochs=2";
        let ranks_out = tempfile::tempdir().unwrap();
        let o = mpirun_kiln(2, &run_args(ranks_out.path(), 200, &[epochs, "--set=data.batch_size=30"]));
        assert!(o.status.success(), "mpirun -np 2: {}", stderr(&o));
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(stdout.matches("run written to").count(), 1, "only rank 0 reports: {stdout}");
        let dirs = run_dirs(ranks_out.path());
        assert_eq!(dirs.len(), 1, "only rank 0 makes a run directory: {dirs:?}");
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dirs[0].join("summary.json")).unwrap()).unwrap();
        assert_eq!((summary["strategy"].as_str(), summary["devices"].as_u64()), (Some("ddp"), Some(2)));
        let two_ranks = weights(&dirs[0]);

        let local_out = tempfile::tempdir().unwrap();
        let o = kiln(&strs(&run_args(
            local_out.path(),
            200,
            &[epochs, "--set=data.batch_size=30", "--set=train.devices=2"],
        )));
        assert!(o.status.success(), "devices = 2: {}", stderr(&o));
        let two_devices = weights(&run_dirs(local_out.path())[0]);

        let both_out = tempfile::tempdir().unwrap();
        let o = mpirun_kiln(
            2,
            &run_args(both_out.path(), 200, &[epochs, "--set=data.batch_size=15", "--set=train.devices=2"]),
        );
        assert!(o.status.success(), "mpirun -np 2 with devices = 2: {}", stderr(&o));
        let ranks_of_devices = weights(&run_dirs(both_out.path())[0]);

        let single_out = tempfile::tempdir().unwrap();
        let o = kiln(&strs(&run_args(
            single_out.path(),
            200,
            &[epochs, "--set=data.batch_size=60", "--set=train.strategy=\"single\""],
        )));
        assert!(o.status.success(), "one device: {}", stderr(&o));
        let single = weights(&run_dirs(single_out.path())[0]);

        for (name, w) in [
            ("2 ranks × 30", &two_ranks),
            ("2 devices × 30", &two_devices),
            ("2 ranks × 2 devices × 15", &ranks_of_devices),
        ] {
            let err = relative_error(&single, w);
            assert!(err < 1e-5, "{name} vs 1 device × 60: relative weight error {err:e}");
        }
    }

    fn strs(args: &[String]) -> Vec<&str> {
        args.iter().map(String::as_str).collect()
    }

    /// The pid of MPI rank `rank` among mpirun's children.
    fn rank_pid(mpirun: &Running, rank: usize) -> Option<u32> {
        let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", mpirun.0.id())).ok()?;
        children.split_whitespace().filter_map(|p| p.parse::<u32>().ok()).find(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|&b| b == 0).any(|v| v == format!("OMPI_COMM_WORLD_RANK={rank}").as_bytes()))
                .unwrap_or(false)
        })
    }

    fn signal(pid: u32, name: &str) {
        let status = Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).status().unwrap();
        assert!(status.success(), "kill -{name} {pid}");
    }

    /// Waits until the run's first checkpoint exists: training is under way on every rank.
    fn wait_for_first_checkpoint(out: &Path) -> PathBuf {
        let start = Instant::now();
        loop {
            if let Some(dir) = run_dirs(out).into_iter().find(|d| d.join("checkpoints/epoch-0001").is_dir()) {
                return dir;
            }
            assert!(start.elapsed() < Duration::from_secs(300), "no checkpoint after 300 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A rank that stops answering (SIGSTOP, as a hung node would) stops the run within the
    /// timeout, named in the error; the same command with --resume then ends where an
    /// uninterrupted run ends.
    #[test]
    fn a_hung_rank_stops_the_run_in_time_and_the_run_resumes_to_the_same_weights() {
        let timeout = 5.0;
        let extra = ["--set=train.epochs=3", "--set=data.batch_size=30", "--set=ddp.timeout_seconds=5"];
        let out = tempfile::tempdir().unwrap();
        let job = spawn_mpirun_kiln(2, &run_args(out.path(), 3000, &extra));
        let run_dir = wait_for_first_checkpoint(out.path());
        let pid = rank_pid(&job, 1).expect("rank 1's process");
        signal(pid, "STOP");
        let (code, text, waited) = finish(job, Duration::from_secs(120));
        assert_eq!(code, Some(2), "{text}");
        assert!(text.contains("rank 1 does not answer"), "{text}");
        assert!(waited < Duration::from_secs_f64(timeout + 25.0), "took {waited:?} to notice");
        let finished = run_dir.join("checkpoints/epoch-0003").is_dir();
        assert!(!finished, "the run finished before rank 1 was stopped; nothing was tested");

        let mut resume = run_args(out.path(), 3000, &extra);
        resume.push(format!("--resume={}", run_dir.display()));
        let o = mpirun_kiln(2, &resume);
        assert!(o.status.success(), "resume: {}", stderr(&o));
        let resumed = weights(&run_dir);

        let whole_out = tempfile::tempdir().unwrap();
        let o = mpirun_kiln(2, &run_args(whole_out.path(), 3000, &extra));
        assert!(o.status.success(), "uninterrupted: {}", stderr(&o));
        let whole = weights(&run_dirs(whole_out.path())[0]);
        let err = relative_error(&whole, &resumed);
        assert!(err < 1e-6, "resumed vs uninterrupted: relative weight error {err:e}");
    }

    /// A rank that dies: the launcher ends the job, non-zero, naming the rank.
    #[test]
    fn a_killed_rank_ends_the_job() {
        let extra = ["--set=train.epochs=50", "--set=data.batch_size=30", "--set=ddp.timeout_seconds=30"];
        let out = tempfile::tempdir().unwrap();
        let job = spawn_mpirun_kiln(2, &run_args(out.path(), 1000, &extra));
        wait_for_first_checkpoint(out.path());
        signal(rank_pid(&job, 1).expect("rank 1's process"), "KILL");
        let (code, text, waited) = finish(job, Duration::from_secs(60));
        assert!(code.is_some_and(|c| c != 0), "exit {code:?}: {text}");
        assert!(text.contains("rank 1"), "{text}");
        assert!(waited < Duration::from_secs(30), "took {waited:?}");
    }

    /// Ranks with different configs (MPMD launch), and several ranks of a single-device run,
    /// are refused on every rank before anything is written.
    #[test]
    fn ranks_started_differently_are_refused() {
        let out = tempfile::tempdir().unwrap();
        let mut command = mpirun();
        command.args(["-np", "1", env!("CARGO_BIN_EXE_kiln")]).args(run_args(
            out.path(),
            200,
            &["--set=optim.lr=0.01"],
        ));
        command.args([":", "-np", "1", env!("CARGO_BIN_EXE_kiln")]).args(run_args(
            out.path(),
            200,
            &["--set=optim.lr=0.02"],
        ));
        let o = command.output().unwrap();
        let text = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{text}");
        assert!(text.contains("rank 0 of 2: rank(s) 1 were not started like rank 0"), "{text}");
        assert!(text.contains("rank 1 of 2") && text.contains("differs from rank 0's at optim.lr"), "{text}");
        assert!(!text.contains("panicked"), "{text}");
        assert!(run_dirs(out.path()).is_empty(), "a refused run made a directory");

        let o = mpirun_kiln(2, &run_args(out.path(), 200, &["--set=train.strategy=\"single\""]));
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("2 processes were started, but [train] strategy is \"single\""), "{}", stderr(&o));
        assert!(run_dirs(out.path()).is_empty(), "a refused run made a directory");
    }
}

#[test]
fn predict_writes_a_colour_overlay_of_a_segmentation_run() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = format!("experiment.output_dir={}", out.path().display());
    let args = [
        "run",
        "experiments/mnist-seg-fcn.toml",
        "--backend",
        "ndarray",
        "--set",
        "data.limit=16",
        "--set",
        "train.epochs=1",
        "--set",
        "model.width=4",
        "--set",
        &out_dir,
    ];
    let o = kiln(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let run_dir = std::fs::read_dir(out.path().join("mnist-seg-fcn")).unwrap().next().unwrap().unwrap().path();
    let mask = out.path().join("mask.png");
    let input = "datasets/mnist-seg/test/images/00000.png";
    let o = kiln(&["predict", run_dir.to_str().unwrap(), "--input", input, "--out", mask.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("picture written to"));
    let overlay = image::open(&mask).unwrap().into_rgb8();
    assert_eq!(overlay.dimensions(), (64, 64));
    // Every pixel is the input's grey (background) or the mean of grey and a class colour
    // (matplotlib's tab10), and the tinted ones are the pixels the printed counts describe.
    let tab10: [[u16; 3]; 10] = [
        [31, 119, 180],
        [255, 127, 14],
        [44, 160, 44],
        [214, 39, 40],
        [148, 103, 189],
        [140, 86, 75],
        [227, 119, 194],
        [127, 127, 127],
        [188, 189, 34],
        [23, 190, 207],
    ];
    let grey = image::open(repo().join(input)).unwrap().into_luma8();
    let mut tinted = 0;
    for (rgb, g) in overlay.pixels().zip(grey.pixels()) {
        let g = u16::from(g.0[0]);
        if rgb.0 != [g as u8; 3] {
            tinted += 1;
            let is_class = tab10.iter().any(|c| c.iter().zip(rgb.0).all(|(&k, v)| (k + g) / 2 == u16::from(v)));
            assert!(is_class, "{rgb:?} over grey {g} is no class colour");
        }
    }
    let printed = String::from_utf8_lossy(&o.stdout).into_owned();
    let counted: usize =
        printed.split(", ").filter_map(|part| part.split(": ").nth(1)?.split(' ').next()?.parse::<usize>().ok()).sum();
    assert!(tinted <= counted && counted <= 64 * 64, "{tinted} tinted pixels, {counted} printed: {printed}");
    // Bad input is a one-paragraph error, not a panic.
    let o = kiln(&["predict", run_dir.to_str().unwrap(), "--input", "README.md", "--out", mask.to_str().unwrap()]);
    assert_user_error(&o, "is not a readable PNG");
    // eval works on the segmentation run as well.
    let o = kiln(&["eval", run_dir.to_str().unwrap()]);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("test/mean_iou"), "{}", stderr(&o));
}

#[test]
fn a_run_directory_from_before_named_checkpoints_is_refused_with_the_reason() {
    let out = tempfile::tempdir().unwrap();
    let ck = out.path().join("checkpoints/epoch-0001");
    std::fs::create_dir_all(&ck).unwrap();
    let shown = kiln(&["config", "show", "experiments/mnist-lenet5.toml"]);
    std::fs::write(out.path().join("config.toml"), &shown.stdout).unwrap();
    std::fs::write(ck.join("model.bin"), b"old").unwrap();
    std::fs::write(ck.join("optimizer.bin"), b"old").unwrap();
    std::fs::write(ck.join("state.json"), b"{}").unwrap();
    assert_user_error(&kiln(&["eval", out.path().to_str().unwrap()]), "written by an earlier kiln");
    let resume = ["run", "experiments/mnist-lenet5.toml", "--resume", out.path().to_str().unwrap()];
    assert_user_error(&kiln(&resume), "cannot be resumed or evaluated here");
}

#[test]
fn generate_continues_a_prompt_from_a_language_model_run() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = format!("experiment.output_dir={}", out.path().display());
    let args = [
        "run",
        "experiments/moby-char-lstm.toml",
        "--backend",
        "ndarray",
        "--set",
        "data.limit=3000",
        "--set",
        "train.epochs=1",
        "--set",
        "model.hidden=16",
        "--set",
        &out_dir,
    ];
    let o = kiln(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let run_dir = std::fs::read_dir(out.path().join("moby-char-lstm")).unwrap().next().unwrap().unwrap().path();
    let run = run_dir.to_str().unwrap();
    let generate = |extra: &[&str]| {
        let mut args = vec!["generate", run, "--prompt", "Call me", "--max-tokens", "40"];
        args.extend(extra);
        kiln(&args)
    };
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).trim_end_matches('\n').to_string();
    let greedy = generate(&["--temperature", "0"]);
    assert!(greedy.status.success(), "{}", stderr(&greedy));
    let greedy = text(&greedy);
    assert!(greedy.starts_with("Call me") && greedy.chars().count() == "Call me".len() + 40, "{greedy:?}");
    assert_eq!(text(&generate(&["--temperature", "0"])), greedy, "greedy decoding is deterministic");
    assert_eq!(text(&generate(&["--beam", "1"])), greedy, "a beam of one is greedy decoding");
    let beam = generate(&["--beam", "3"]);
    assert!(beam.status.success() && text(&beam).chars().count() == "Call me".len() + 40, "{}", stderr(&beam));
    let (a, b) = (generate(&["--seed", "1", "--top-k", "5"]), generate(&["--seed", "1", "--top-k", "5"]));
    assert!(a.status.success() && text(&a) == text(&b), "the same seed draws the same text");
    // Characters the training text never had, and bad settings, are one-paragraph errors.
    let mut args = vec!["generate", run, "--prompt", "日本"];
    args.extend(["--max-tokens", "5"]);
    assert_user_error(&kiln(&args), "characters the training text never had");
    assert_user_error(&generate(&["--top-p", "1.5"]), "top-p must be in (0, 1]");
    // eval reports bits per character; a segmentation-style predict is refused.
    let o = kiln(&["eval", run]);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("test/bits_per_char"), "{}", stderr(&o));
    let o = kiln(&["predict", run, "--input", "README.md", "--out", "/tmp/x.png"]);
    assert_user_error(&o, "no `kiln predict`");
}

#[test]
fn similar_and_analogy_query_a_word2vec_run() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = format!("experiment.output_dir={}", out.path().display());
    let set = |kv: &'static str| ["--set", kv];
    let mut args = vec!["run", "experiments/sotu-word2vec-skipgram.toml", "--backend", "ndarray", "--set", &out_dir];
    for kv in ["data.limit=20000", "train.epochs=1", "model.dim=8", "model.min_count=2"] {
        args.extend(set(kv));
    }
    let o = kiln(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let run_dir = std::fs::read_dir(out.path().join("sotu-word2vec-skipgram")).unwrap().next().unwrap().unwrap().path();
    let run = run_dir.to_str().unwrap();
    let o = kiln(&["similar", run, "congress", "--top", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<String> = String::from_utf8_lossy(&o.stdout).lines().map(String::from).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let similarity: f64 = lines[0].split_whitespace().next().unwrap().parse().unwrap();
    assert!((-1.0..=1.0).contains(&similarity) && !lines.iter().any(|l| l.ends_with(" congress")), "{lines:?}");
    let o = kiln(&["analogy", run, "house", "senate", "congress"]);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).lines().count() == 5, "{}", stderr(&o));
    assert_user_error(&kiln(&["similar", run, "zyzzyva"]), "'zyzzyva' is not in the run's vocabulary");
    assert_user_error(&kiln(&["analogy", run, "house", "zyzzyva", "congress"]), "'zyzzyva' is not in the vocabulary");
    assert_user_error(&kiln(&["generate", run, "--prompt", "x"]), "no `kiln generate`");
}

#[test]
fn generate_answers_a_prompt_from_a_seq2seq_run() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = format!("experiment.output_dir={}", out.path().display());
    let mut args = vec!["run", "experiments/reverse-lstm.toml", "--backend", "ndarray", "--set", &out_dir];
    for kv in ["data.limit=64", "train.epochs=1", "model.hidden=16", "schedule.name=constant"] {
        args.extend(["--set", kv]);
    }
    let o = kiln(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let run_dir = std::fs::read_dir(out.path().join("reverse-lstm")).unwrap().next().unwrap().unwrap().path();
    let run = run_dir.to_str().unwrap();
    let generate = |extra: &[&str]| {
        let mut args = vec!["generate", run, "--prompt", "1234", "--max-tokens", "6"];
        args.extend(extra);
        kiln(&args)
    };
    let greedy = generate(&["--temperature", "0"]);
    assert!(greedy.status.success(), "{}", stderr(&greedy));
    // The answer alone (not the prompt first): at most 6 digits, the only characters in the pairs
    // (a model this untrained may also write the unknown-character token, shown as U+FFFD).
    let answer = String::from_utf8_lossy(&greedy.stdout).trim_end_matches('\n').to_string();
    let digit_or_unknown = |c: char| c.is_ascii_digit() || c == '\u{FFFD}';
    assert!(answer.chars().count() <= 6 && answer.chars().all(digit_or_unknown), "{answer:?}");
    assert_eq!(generate(&["--temperature", "0"]).stdout, greedy.stdout, "greedy decoding is deterministic");
    assert_user_error(&generate(&["--beam", "2"]), "--beam is for language models");
    assert_user_error(&kiln(&["generate", run, "--prompt", "12a"]), "characters the training pairs never had");
    let o = kiln(&["eval", run]);
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && report.contains("test/exact_match") && report.contains("test/longer_exact_match"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_detection_run_predicts_boxes_and_is_rescored_with_another_suppression() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = format!("experiment.output_dir={}", out.path().display());
    let args = [
        "run",
        "experiments/mnist-det-centernet.toml",
        "--backend",
        "ndarray",
        "--set",
        "data.limit=8",
        "--set",
        "train.epochs=1",
        "--set",
        "model.width=4",
        "--set",
        "model.head_width=8",
        "--set",
        &out_dir,
    ];
    let o = kiln(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let run_dir = std::fs::read_dir(out.path().join("mnist-det-centernet")).unwrap().next().unwrap().unwrap().path();
    let run = run_dir.to_str().unwrap();
    let (picture, json) = (out.path().join("boxes.png"), out.path().join("boxes.json"));
    let input = "datasets/mnist-det/test/00003.png";
    let o =
        kiln(&["predict", run, "--input", input, "--out", picture.to_str().unwrap(), "--json", json.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(said.contains("detections after none") && said.contains("COCO results written to"), "{said}");
    // The picture is the canvas enlarged three times.
    assert_eq!(image::open(&picture).unwrap().into_rgb8().dimensions(), (384, 384));
    // COCO results: image_id of test canvas 00003.png (ids start at 1 in mnist-det), categories
    // 1–10, boxes inside the canvas, at most max_detections of them.
    let results: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(!results.is_empty() && results.len() <= 100, "{} results", results.len());
    let annotations: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("datasets/mnist-det/annotations/instances_test.json")).unwrap(),
    )
    .unwrap();
    let id =
        annotations["images"].as_array().unwrap().iter().find(|i| i["file_name"] == "00003.png").unwrap()["id"].clone();
    for r in &results {
        assert_eq!(r["image_id"], id);
        assert!((1..=10).contains(&r["category_id"].as_u64().unwrap()));
        assert_eq!(r["bbox"].as_array().unwrap().len(), 4);
        assert!((0.0..=1.0).contains(&r["score"].as_f64().unwrap()));
    }
    let o = kiln(&["eval", run, "--suppression", "diou_nms"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("test/ap50"));
    let o = kiln(&["eval", run, "--suppression", "soft_nms"]);
    assert_user_error(&o, "unknown suppression 'soft_nms'");
    let o = kiln(&["predict", run, "--input", input, "--json", out.path().join("boxes.txt").to_str().unwrap()]);
    assert_user_error(&o, "must end in .json");
}
