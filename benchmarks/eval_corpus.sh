#!/usr/bin/env bash
# The development measurement, with the judges' own scorers: one joint index (the bundled sample
# plans + every document of the development corpus), score.py on the seed/dev/dev2 answers and
# fields.py on the indexed items; then dev2 on an index of dev2 alone.
# usage: bash benchmarks/eval_corpus.sh [SHARED_DIR] [OUT_DIR]   (defaults ../shared, /tmp/planbot-eval)
# PLANBOT_EVAL_REUSE=1 re-indexes only changed files (a parser change needs the default, --force).
# PLANBOT_EVAL_SETS="seed dev" limits the question sets (default: seed dev dev2).
# PLANBOT_EVAL_HOLDOUT="d2_02 d2_04 d2_12" leaves the questions of those documents out of dev2 (the
# part of dev2 kept out of the development loop; the documents stay in the index).
# PLANBOT_EVAL_DB=postgresql://… puts the joint index in that PostgreSQL database instead of
# $OUT/joint.db (e.g. PLANBOT_EVAL_DB="$(bash scripts/postgres.sh start | tail -1)"); it is
# indexed and asked there the same way; dev2 alone stays on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD  # this checkout's code, also from a git worktree sharing one .venv
SHARED=$(cd "${1:-../shared}" && pwd)
OUT=${2:-/tmp/planbot-eval}
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 TRANSFORMERS_VERBOSITY=error
PB=.venv/bin/planbot
PY=.venv/bin/python
FORCE=--force
[ "${PLANBOT_EVAL_REUSE:-}" = 1 ] && FORCE=
SETS=${PLANBOT_EVAL_SETS:-seed dev dev2}
C="$SHARED/corpus"

run() {  # run NAME DB PATHS...
  local name=$1 db=$2; shift 2
  $PB index --db "$db" $FORCE "$@" >"$OUT/$name.index.log" 2>&1 || { tail -20 "$OUT/$name.index.log"; exit 1; }
  $PB tasks --db "$db" --json >"$OUT/$name.tasks.json"
}
ask() {  # ask DB SET OUTFILE
  $PY -c 'import json,sys; [print(json.loads(l)["q"]) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]' \
    "$Q/$2_questions.jsonl" | $PB ask --db "$1" --json - >"$3" 2>"$3.err"
}

Q="$OUT/questions"; mkdir -p "$Q"
for set in seed dev dev2; do
  $PY -c 'import json,sys
held = sys.argv[2].split()
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip() and not any(json.loads(line).get("doc", "").startswith(h) for h in held):
        print(line.rstrip("\n"))' "$SHARED/eval/${set}_questions.jsonl" "${PLANBOT_EVAL_HOLDOUT:-}" >"$Q/${set}_questions.jsonl"
done

if [ "${PLANBOT_EVAL_FIELDS_ONLY:-}" = 1 ]; then  # reading only: no vectors, no answers (fast)
  FORCE="$FORCE --no-embed"
  run fields "$OUT/fields.db" sample_plans "$C/plans" "$C/other" "$C/dev2" "$C/formats"
  $PY "$SHARED/eval/fields.py" "$OUT/fields.tasks.json" "$Q"/{seed,dev,dev2}_questions.jsonl
  $PB check --expect "$SHARED/eval/dev_tables.jsonl" "$C/plans" "$C/formats" 2>&1 | grep -A1 '^Tỉ lệ' | head -1
  exit 0
fi
JOINT=${PLANBOT_EVAL_DB:-$OUT/joint.db}
run joint "$JOINT" sample_plans "$C/plans" "$C/other" "$C/dev2" "$C/formats"
for set in $SETS; do
  ask "$JOINT" "$set" "$OUT/joint.$set.answers.jsonl"
  printf '%-6s ' "$set"; $PY "$SHARED/eval/score.py" "$Q/${set}_questions.jsonl" "$OUT/joint.$set.answers.jsonl" 2>"$OUT/joint.$set.misses" | tail -1
done
$PY "$SHARED/eval/fields.py" "$OUT/joint.tasks.json" "$Q"/{seed,dev,dev2}_questions.jsonl
$PB check --expect "$SHARED/eval/dev_tables.jsonl" "$C/plans" "$C/formats" 2>&1 | grep '^Tỉ lệ' | head -1
if [[ " $SETS " == *" dev2 "* ]]; then
  run dev2only "$OUT/dev2only.db" "$C/dev2"
  ask "$OUT/dev2only.db" dev2 "$OUT/dev2only.dev2.answers.jsonl"
  printf 'dev2 alone '; $PY "$SHARED/eval/score.py" "$Q/dev2_questions.jsonl" "$OUT/dev2only.dev2.answers.jsonl" 2>"$OUT/dev2only.dev2.misses" | tail -1
fi
