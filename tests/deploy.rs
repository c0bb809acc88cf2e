//! The files of `deploy/`: the Kubernetes Indexed Job and the GitHub workflow parse as YAML and
//! have the fields their engines require, their shard counts agree with the sweeps they run,
//! the Slurm script is valid shell, and the Dockerfile ships the binary with the scenarios.

mod common;

use common::root;
use yaml_rust2::{Yaml, YamlLoader};

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/deploy/{path}", root())).expect("the deploy file exists")
}

fn yaml(path: &str) -> Yaml {
    let docs = YamlLoader::load_from_str(&read(path)).expect("valid YAML");
    assert_eq!(docs.len(), 1, "{path}: one document");
    docs.into_iter().next().expect("a document")
}

fn text<'a>(doc: &'a Yaml, what: &str) -> &'a str {
    doc.as_str()
        .unwrap_or_else(|| panic!("{what} is a string: {doc:?}"))
}

fn number(doc: &Yaml, what: &str) -> i64 {
    doc.as_i64()
        .unwrap_or_else(|| panic!("{what} is a number: {doc:?}"))
}

/// The N of `--shards N` in a command line.
fn shards_flag(command: &str) -> i64 {
    let after = command.split("--shards").nth(1).expect("--shards N");
    after
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number")
}

#[test]
fn the_kubernetes_job_is_an_indexed_job_kubernetes_accepts() {
    let job = yaml("kubernetes/sweep-job.yaml");
    assert_eq!(text(&job["apiVersion"], "apiVersion"), "batch/v1");
    assert_eq!(text(&job["kind"], "kind"), "Job");
    assert!(!text(&job["metadata"]["name"], "metadata.name").is_empty());
    let spec = &job["spec"];
    assert_eq!(text(&spec["completionMode"], "completionMode"), "Indexed");
    let completions = number(&spec["completions"], "completions");
    assert!(number(&spec["parallelism"], "parallelism") >= 1);
    assert!(number(&spec["backoffLimitPerIndex"], "backoffLimitPerIndex") >= 0);
    let pod = &spec["template"]["spec"];
    // Kubernetes requires restartPolicy Never with backoffLimitPerIndex.
    assert_eq!(text(&pod["restartPolicy"], "restartPolicy"), "Never");
    let containers = pod["containers"].as_vec().expect("containers");
    assert_eq!(containers.len(), 1);
    let container = &containers[0];
    assert!(!text(&container["name"], "container name").is_empty());
    assert!(!text(&container["image"], "image").is_empty());
    let args = container["args"].as_vec().expect("args");
    let command = text(&args[0], "the sweep command");
    assert!(command.contains("--shard-from-env"), "{command}");
    assert_eq!(
        shards_flag(command),
        completions,
        "one shard per completion index"
    );
    let mounts = container["volumeMounts"].as_vec().expect("volume mounts");
    let volumes = pod["volumes"].as_vec().expect("volumes");
    assert_eq!(
        text(&mounts[0]["name"], "mount"),
        text(&volumes[0]["name"], "volume")
    );
    // The claim the volume names is defined beside the Job, writable by every pod at once.
    let claim = text(
        &volumes[0]["persistentVolumeClaim"]["claimName"],
        "claimName",
    );
    let pvc = yaml("kubernetes/results-pvc.yaml");
    assert_eq!(text(&pvc["kind"], "kind"), "PersistentVolumeClaim");
    assert_eq!(text(&pvc["metadata"]["name"], "metadata.name"), claim);
    let modes = pvc["spec"]["accessModes"].as_vec().expect("access modes");
    assert_eq!(text(&modes[0], "access mode"), "ReadWriteMany");
}

#[test]
fn the_github_workflow_shards_then_merges() {
    let workflow = yaml("github/sweep.yml");
    assert!(!text(&workflow["name"], "name").is_empty());
    assert!(
        !workflow["on"].is_badvalue(),
        "the workflow says when it runs"
    );
    let jobs = &workflow["jobs"];
    let shard = &jobs["shard"];
    let shards = shard["strategy"]["matrix"]["shard"]
        .as_vec()
        .expect("a shard matrix");
    let count = number(&shard["env"]["SIM_SHARD_COUNT"], "SIM_SHARD_COUNT");
    assert_eq!(shards.len() as i64, count);
    for (k, index) in shards.iter().enumerate() {
        assert_eq!(number(index, "a shard index"), k as i64);
    }
    for job in ["shard", "merge"] {
        assert!(!text(&jobs[job]["runs-on"], "runs-on").is_empty());
        assert!(!jobs[job]["steps"].as_vec().expect("steps").is_empty());
    }
    assert_eq!(text(&jobs["merge"]["needs"], "needs"), "shard");
    let merge_steps = format!("{:?}", jobs["merge"]["steps"]);
    assert!(
        merge_steps.contains("sim merge shard-*.json"),
        "{merge_steps}"
    );
    assert!(merge_steps.contains("GITHUB_STEP_SUMMARY"), "{merge_steps}");
}

#[test]
fn the_slurm_script_is_a_job_array_of_shards() {
    let script = read("slurm/sweep.sh");
    assert!(script.contains("#SBATCH --array=0-"), "{script}");
    assert!(script.contains("--shard-from-env"), "{script}");
    // Slurm opens the output file before the script can create a folder for it.
    let output = script
        .lines()
        .find_map(|l| l.strip_prefix("#SBATCH --output="));
    assert!(output.is_some_and(|o| !o.contains('/')), "{script}");
    let checked = std::process::Command::new("bash")
        .args(["-n", &format!("{}/deploy/slurm/sweep.sh", root())])
        .status()
        .expect("bash runs");
    assert!(checked.success(), "the Slurm script is valid bash");
}

#[test]
fn the_dockerfile_ships_the_binary_and_the_scenarios() {
    let dockerfile = read("Dockerfile");
    assert!(dockerfile.contains("cargo build --release --locked --bin sim"));
    assert!(dockerfile.contains("COPY scenarios"));
    assert!(dockerfile.contains("ENTRYPOINT [\"sim\"]"));
    // `COPY . .` would send the build output (gigabytes) as the build context.
    let ignore = std::fs::read_to_string(format!("{}/.dockerignore", root())).expect("exists");
    assert!(ignore.lines().any(|l| l.trim() == "target/"), "{ignore}");
}
