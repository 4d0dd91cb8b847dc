# Shell helpers shared by tests/k8s/e2e.sh and install-e2e.sh (sourced; they set AXON, KUBECTL,
# NS, WORK, GW and say/fail first): waiting, reading `axon get`, the echo API both deploy,
# bounded load, and the scaling and update scenario both run.

wait_for() {  # wait_for SECONDS COMMAND...: until it succeeds
  local seconds=$1; shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 1
  done
}
field() { "$AXON" get -o json | /usr/bin/python3 -c "import json,sys; a=[x for x in json.load(sys.stdin) if x['name']=='$1']; print(a[0]['$2'] if a else '')"; }
status_is() { [ "$(field "$1" status)" = "$2" ]; }
deployment_replicas() { "$KUBECTL" -n $NS get deployment "api-$1" -o jsonpath='{.spec.replicas}'; }
replicas_at_least() { [ "$(deployment_replicas "$1")" -ge "$2" ]; }
replicas_are() { [ "$(deployment_replicas "$1")" = "$2" ]; }

# $WORK/echo: a Python predictor answering its config's `answer` after `sleep` seconds, and
# echo_spec ANSWER writing its axon.yaml: autoscaled on concurrency 1 with short windows,
# rolled one pod at a time.
write_echo() {
  mkdir -p "$WORK/echo"
  cat > "$WORK/echo/predictor.py" <<'PY'
import os
import time


class PythonPredictor:
    def __init__(self, config):
        self.config = config

    def predict(self, payload):
        time.sleep(float(self.config.get("sleep", 0)))
        return {"answer": self.config["answer"], "pod": os.environ.get("POD_NAME", "")}
PY
}
echo_spec() {  # echo_spec ANSWER
  cat > "$WORK/echo/axon.yaml" <<YAML
- name: echo
  kind: RealtimeAPI
  predictor:
    type: python
    path: predictor.py
    config:
      answer: $1
      sleep: 0.2
  compute:
    cpu: 100m
    mem: 256Mi
  autoscaling:
    min_replicas: 1
    max_replicas: 3
    target_replica_concurrency: 1
    window: 4s
    upscale_stabilization_period: 0s
    downscale_stabilization_period: 4s
    max_upscale_factor: 3
  update_strategy:
    max_surge: 1
    max_unavailable: 0
YAML
}

# load CLIENTS SECONDS FILE URL [BODY_FILE]: CLIENTS concurrent clients POST to URL for SECONDS;
# each failed request is a line in FILE. wait_load waits for every client started so far.
LOAD_PIDS=()
load() {
  local clients=$1 until=$((SECONDS + $2)) file=$3 url=$4 data='{}'
  [ -z "${5:-}" ] || data=@$5
  for _ in $(seq "$clients"); do
    ( while [ $SECONDS -lt $until ]; do
        curl -sf -m 10 -X POST "$url" -H 'Content-Type: application/json' -d "$data" >/dev/null \
          || echo "$url $(date +%T.%N)" >> "$file"
      done ) &
    LOAD_PIDS+=($!)
  done
}
wait_load() {
  [ ${#LOAD_PIDS[@]} -eq 0 ] || wait "${LOAD_PIDS[@]}"
  LOAD_PIDS=()
}

predict_echo() { curl -sf -m 10 -X POST "$GW/echo" -H 'Content-Type: application/json' -d '{}'; }
answers() {  # answers TEXT: echo answers with TEXT
  predict_echo | grep -q "\"$1\""
}

# scale_update_rollback FIRST: with echo live answering FIRST, autoscaling up under load (6
# clients for 25 s, 0.2 s per request, target concurrency 1) and back down to 1, a rolling
# update to the answer "two" under load, then `axon rollback` to FIRST; no request may fail.
scale_update_rollback() {
  local first=$1
  say "autoscaling under load: 6 clients, 0.2 s per request, target concurrency 1"
  : > "$WORK/failures"
  load 6 25 "$WORK/failures" "$GW/echo"
  wait_for 30 replicas_at_least echo 2 || fail "the autoscaler did not write the scale subresource"
  say "scaled up: deployment api-echo spec.replicas=$(deployment_replicas echo)"
  wait_load
  say "load done: $(wc -l < "$WORK/failures") failed requests"
  [ ! -s "$WORK/failures" ] || fail "requests failed during scale-up"
  wait_for 90 replicas_are echo 1 || fail "the autoscaler did not scale back down"
  say "scaled down: spec.replicas=$(deployment_replicas echo)"

  say "rolling update to version 2 under load"
  : > "$WORK/failures"
  load 6 40 "$WORK/failures" "$GW/echo"
  echo_spec two
  "$AXON" deploy "$WORK/echo/axon.yaml"
  wait_for 120 answers two || fail "version 2 never answered"
  wait_for 120 status_is echo live || fail "echo not live after the update"
  wait_load
  say "rolling update done: $(wc -l < "$WORK/failures") failed requests; answer $(predict_echo)"
  [ ! -s "$WORK/failures" ] || fail "requests failed during the rolling update"
  "$KUBECTL" -n $NS get configmaps -l axon.dev/api=echo

  say "rollback to version 1's content"
  "$AXON" rollback echo
  wait_for 120 answers "$first" || fail "rollback never answered"
  wait_for 120 status_is echo live || fail "echo not live after the rollback"
  local answer
  answer=$(predict_echo)
  say "after rollback: $answer (version $(field echo version))"
  echo "$answer" | grep -q "\"$first\"" || fail "version 2 still answers after the rollback's rollout"
}
