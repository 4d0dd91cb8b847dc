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

. "$(dirname "$0")/lib.sh"
predict() { curl -sf -m 10 -X POST "$GW/$1" -H 'Content-Type: application/json' -d "${2:-{\}}"; }
ready_pods() { "$KUBECTL" -n $NS get pods -l "axon.dev/api=$1" -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True || true; }

write_echo

say "axon up --backend kubernetes (operator on :$OP_PORT, gateway on :$GW_PORT, namespace $NS)"
"$AXON" up --backend kubernetes --kubeconfig "$KUBECONFIG" --namespace $NS \
  --host 0.0.0.0 --port "$OP_PORT" --gateway-port "$GW_PORT" \
  --bundle-url "http://$NODE_IP:$OP_PORT" --replica-image "axon-replica:$TAG" \
  --image-pull-policy Never --autoscale-ms 1000 --drain-ms 3000

say "deploy echo (a Python predictor; its bundle is fetched by the pod from the operator)"
echo_spec one
"$AXON" deploy "$WORK/echo/axon.yaml"
wait_for 180 status_is echo live || fail "echo did not become live"
answer=$(predict echo)
say "predict through the gateway: $answer"
echo "$answer" | grep -q '"answer": *"one"' || fail "unexpected answer $answer"
"$KUBECTL" -n $NS get axonapis,deployments,pods -l axon.dev/api=echo

scale_update_rollback one

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
