#!/usr/bin/env bash
# End to end on a real cluster with the operator's Kubernetes backend: `axon up --backend
# kubernetes` (the operator and its gateway on this machine, the replicas as pods), then the
# same verbs as locally. Run by scripts/test-k8s after the smoke test; needs KUBECONFIG, the
# images loaded as axon-replica:$TAG, and the node's bridge address $NODE_IP (pods reach the
# operator there for their bundles; this machine reaches the pods' addresses).
#
#   tests/k8s/e2e.sh BUILD_DIR TAG
set -euo pipefail
BUILD=$(cd "$1" && pwd)
TAG=$2
NODE_IP=${NODE_IP:-10.244.0.1}
NS=axon-e2e
AXON="$BUILD/bin/axon"
KUBECTL=${KUBECTL:-/var/cache/k8s-cluster/bin/kubectl}
export AXON_HOME
AXON_HOME=$(mktemp -d /tmp/axon-e2e-home.XXXXXX)
WORK=$(mktemp -d /tmp/axon-e2e-work.XXXXXX)
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])'; }
OP_PORT=$(free_port)
GW_PORT=$(free_port)
GW=http://127.0.0.1:$GW_PORT

say() { echo "e2e: $*"; }
fail() { echo "e2e: FAILED: $*" >&2; "$AXON" get || true; "$KUBECTL" -n $NS get pods -o wide || true; exit 1; }
cleanup() {
  "$AXON" down >/dev/null 2>&1 || true
  "$KUBECTL" delete namespace $NS --wait=false >/dev/null 2>&1 || true
  rm -rf "$WORK"
  [ "${KEEP_HOME:-0}" = 1 ] || rm -rf "$AXON_HOME"
}
trap cleanup EXIT

# waits up to $1 seconds for the command to succeed
wait_for() {
  local seconds=$1; shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 1
  done
}
field() { "$AXON" get -o json | /usr/bin/python3 -c "import json,sys; a=[x for x in json.load(sys.stdin) if x['name']=='$1']; print(a[0]['$2'] if a else '')"; }
status_is() { [ "$(field "$1" status)" = "$2" ]; }
predict() { curl -sf -m 10 -X POST "$GW/$1" -H 'Content-Type: application/json' -d "${2:-{\}}"; }
deployment_replicas() { "$KUBECTL" -n $NS get deployment "api-$1" -o jsonpath='{.spec.replicas}'; }
ready_pods() { "$KUBECTL" -n $NS get pods -l "axon.dev/api=$1" -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True || true; }

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
spec() {  # spec ANSWER
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

say "axon up --backend kubernetes (operator on :$OP_PORT, gateway on :$GW_PORT, namespace $NS)"
"$AXON" up --backend kubernetes --kubeconfig "$KUBECONFIG" --namespace $NS \
  --host 0.0.0.0 --port "$OP_PORT" --gateway-port "$GW_PORT" \
  --bundle-url "http://$NODE_IP:$OP_PORT" --replica-image "axon-replica:$TAG" \
  --image-pull-policy Never --autoscale-ms 1000 --drain-ms 3000

say "deploy echo (a Python predictor; its bundle is fetched by the pod from the operator)"
spec one
"$AXON" deploy "$WORK/echo/axon.yaml"
wait_for 180 status_is echo live || fail "echo did not become live"
answer=$(predict echo)
say "predict through the gateway: $answer"
echo "$answer" | grep -q '"answer": *"one"' || fail "unexpected answer $answer"
"$KUBECTL" -n $NS get axonapis,deployments,pods -l axon.dev/api=echo

say "autoscaling under load: 6 clients, 0.2 s per request, target concurrency 1"
load() {  # load SECONDS FILE: concurrent clients; each failed request is a line in FILE
  local until=$((SECONDS + $1))
  for _ in 1 2 3 4 5 6; do
    ( while [ $SECONDS -lt $until ]; do predict echo >/dev/null || echo failed >> "$2"; done ) &
  done
}
: > "$WORK/failures"
load 25 "$WORK/failures"
wait_for 30 bash -c "[ \"\$($KUBECTL -n $NS get deployment api-echo -o jsonpath='{.spec.replicas}')\" -ge 2 ]" \
  || fail "the autoscaler did not write the scale subresource"
say "scaled up: deployment api-echo spec.replicas=$(deployment_replicas echo)"
wait
say "load done: $(wc -l < "$WORK/failures") failed requests"
[ ! -s "$WORK/failures" ] || fail "requests failed during scale-up"
wait_for 60 bash -c "[ \"\$($KUBECTL -n $NS get deployment api-echo -o jsonpath='{.spec.replicas}')\" = 1 ]" \
  || fail "the autoscaler did not scale back down"
say "scaled down: spec.replicas=$(deployment_replicas echo)"

say "rolling update to version 2 under load"
: > "$WORK/failures"
load 40 "$WORK/failures"
spec two
"$AXON" deploy "$WORK/echo/axon.yaml"
wait_for 120 bash -c "curl -sf -m 10 -X POST $GW/echo -d '{}' | grep -q '\"two\"'" || fail "version 2 never answered"
wait_for 120 status_is echo live || fail "echo not live after the update"
wait
say "rolling update done: $(wc -l < "$WORK/failures") failed requests; answer $(predict echo)"
[ ! -s "$WORK/failures" ] || fail "requests failed during the rolling update"
"$KUBECTL" -n $NS get configmaps -l axon.dev/api=echo

say "rollback to version 1's content"
"$AXON" rollback echo
wait_for 120 bash -c "curl -sf -m 10 -X POST $GW/echo -d '{}' | grep -q '\"one\"'" || fail "rollback never answered"
wait_for 120 status_is echo live || fail "echo not live after the rollback"
answer=$(predict echo)
say "after rollback: $answer (version $(field echo version))"
echo "$answer" | grep -q '"one"' || fail "version 2 still answers after the rollback's rollout"

say "a predictor that cannot load: its error comes from the pod's termination message"
mkdir -p "$WORK/broken"
cat > "$WORK/broken/predictor.py" <<'PY'
class PythonPredictor:
    def __init__(self, config):
        raise ValueError("the model file is missing")

    def predict(self, payload):
        return {}
PY
cat > "$WORK/broken/axon.yaml" <<'YAML'
- name: broken
  kind: RealtimeAPI
  predictor:
    type: python
    path: predictor.py
  compute:
    cpu: 100m
YAML
"$AXON" deploy --no-wait "$WORK/broken/axon.yaml"
wait_for 120 status_is broken error || fail "broken did not report an error"
"$AXON" describe broken | grep -i "model file is missing" || fail "the reason is not shown"

say "delete both APIs: nothing of theirs is left"
"$AXON" delete broken
"$AXON" delete echo
gone() { [ -z "$("$KUBECTL" -n $NS get axonapis,deployments,configmaps,pods -l "axon.dev/api=$1" -o name 2>/dev/null)" ]; }
wait_for 90 gone echo || fail "objects of echo are left"
wait_for 90 gone broken || fail "objects of broken are left"
say "PASSED"
