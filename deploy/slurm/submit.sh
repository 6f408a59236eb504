#!/bin/bash
# submit.sh PLAN OUT N [DELAY] — queues N segments of PLAN as one Slurm array
# job starting together DELAY (default 60s) from now, and the merge after it.
# Prints the two job ids. Environment: STRAIN, STRAIN_ARGS (see
# strain-array.sbatch), SBATCH_ARGS (more sbatch flags: partition, account).
set -eu
PLAN=$(realpath "$1") OUT=$(realpath -m "$2") N=$3 DELAY=${4:-60s}
HERE=$(cd "$(dirname "$0")" && pwd)
START_AT=+$DELAY
# An absolute time, so that tasks that start later still share it.
case "$DELAY" in
*s) START_AT=$(date -u -d "+${DELAY%s} seconds" +%Y-%m-%dT%H:%M:%SZ) ;;
*m) START_AT=$(date -u -d "+${DELAY%m} minutes" +%Y-%m-%dT%H:%M:%SZ) ;;
esac
mkdir -p "$OUT"
# shellcheck disable=SC2086
array=$(sbatch --parsable ${SBATCH_ARGS:-} --array=0-$((N - 1)) --chdir="$OUT" \
	--export=ALL,PLAN="$PLAN",OUT="$OUT",START_AT="$START_AT" "$HERE/strain-array.sbatch")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_ARGS:-} --dependency=afterany:"$array" --chdir="$OUT" \
	--export=ALL,OUT="$OUT" "$HERE/strain-merge.sbatch")
echo "$array ${merge%%;*}"
