#!/usr/bin/env bash
# A sharded sweep as a Slurm job array: task K runs shard K of the array's task count.
#   sbatch deploy/slurm/sweep.sh                       # 16 shards of seeds 0..100000
#   sim merge results/shard-*.json                     # when every task has finished
#SBATCH --job-name=rmq-sim-sweep
#SBATCH --array=0-15
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --time=01:00:00
# Slurm opens the output file before the script runs: it goes beside the submission, not
# into results/, which the script creates.
#SBATCH --output=rmq-sim-sweep-%A_%a.out
set -uo pipefail

SCENARIO=${SCENARIO:-scenarios/swarm-masters.toml}
SEEDS=${SEEDS:-0..100000}
mkdir -p results
# --shard-from-env reads SLURM_ARRAY_TASK_ID, less SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT.
sim sweep "$SCENARIO" --seeds "$SEEDS" --jobs "${SLURM_CPUS_PER_TASK:-2}" \
    --shard-from-env --json-out "results/shard-${SLURM_ARRAY_TASK_ID}.json"
code=$?
# Exit 1 means failing seeds were found: a result, kept in the shard file.
[ "$code" -le 1 ]
