#!/usr/bin/env bash
# End to end with Axon installed *in* the cluster: `axon cluster install` (the operator in
# Kubernetes mode with its service account, the gateway as pods fed route tables by the
# operator, both reached from this machine through NodePort Services), `axon env use`, then
# the same verbs as locally: a Python API answering through the in-cluster gateway, autoscaled
# up and down under load, rolled to a new version under load and rolled back with no failed
# request; a TorchScript API whose model is named by URL (checked against torch); an API scaled
# to zero woken by a request the gateway holds; the operator
# pod deleted under load with no failed request and its state (versions, bundles) found again
# by the new pod on its volume; `axon logs` from the pods; and `axon cluster uninstall` leaving
# nothing labelled app.kubernetes.io/part-of=axon. Run by scripts/test-k8s; needs KUBECONFIG
# and the images loaded as axon-control:$TAG and axon-replica:$TAG.
#
# The test cluster has no storage provisioner, so the test makes the PersistentVolume a
# provisioner would (a hostPath on the single node) for the operator's state claim.
#
#   tests/k8s/install-e2e.sh BUILD_DIR TAG
set -euo pipefail
BUILD=$(cd "$1" && pwd)
TAG=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NS=axon-install-e2e
NODE_IP=${NODE_IP:-10.244.0.1}
ENV=e2e
AXON="$BUILD/bin/axon"
KUBECTL=${KUBECTL:-/var/cache/k8s-cluster/bin/kubectl}
export AXON_HOME
AXON_HOME=$(mktemp -d /tmp/axon-install-e2e-home.XXXXXX)
WORK=$(mktemp -d /tmp/axon-install-e2e-work.XXXXXX)

say() { echo "install-e2e: $*"; }
fail() {
  echo "install-e2e: FAILED: $*" >&2
  "$AXON" get || true
  "$KUBECTL" -n $NS get all -o wide || true
  "$KUBECTL" -n $NS logs -l app.kubernetes.io/component=operator --tail 30 || true
  exit 1
}
STATE_PV=axon-install-e2e-state
STATE_DIR=$(mktemp -d /tmp/axon-install-e2e-state.XXXXXX)
SERVER_PID=
cleanup() {
  [ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
  "$KUBECTL" delete namespace $NS --wait=false >/dev/null 2>&1 || true
  "$KUBECTL" delete persistentvolume $STATE_PV --wait=false >/dev/null 2>&1 || true
  rm -rf "$WORK" "$STATE_DIR"
  [ "${KEEP_HOME:-0}" = 1 ] || rm -rf "$AXON_HOME"
}
trap cleanup EXIT

. "$ROOT/tests/k8s/lib.sh"
leftovers() {
  "$KUBECTL" get namespaces,customresourcedefinitions -l app.kubernetes.io/part-of=axon -o name 2>/dev/null
  "$KUBECTL" -n $NS get all,configmaps,secrets,serviceaccounts,roles,rolebindings,persistentvolumeclaims \
    -l app.kubernetes.io/part-of=axon -o name 2>/dev/null
}

say "a PersistentVolume for the operator's state claim (hostPath $STATE_DIR)"
"$KUBECTL" delete persistentvolume $STATE_PV >/dev/null 2>&1 || true
"$KUBECTL" apply -f - <<YAML
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $STATE_PV
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  claimRef: {namespace: $NS, name: axon-operator-state}
  hostPath: {path: $STATE_DIR, type: Directory}
YAML

say "axon cluster install (namespace $NS, images axon-control:$TAG, axon-replica:$TAG)"
"$AXON" cluster install --kubeconfig "$KUBECONFIG" --env $ENV --namespace $NS \
  --image-tag "$TAG" --image-pull-policy Never --state-size 1Gi --timeout-s 240 \
  || fail "install failed"
"$KUBECTL" -n $NS get deployments,services,pods,persistentvolumeclaims -o wide
"$KUBECTL" -n $NS get role axon-operator -o jsonpath='{range .rules[*]}{.apiGroups}{" "}{.resources}{" "}{.verbs}{"\n"}{end}'

say "axon env list / use $ENV"
"$AXON" env list
"$AXON" env use $ENV
"$AXON" env list | grep -q "^\* *$ENV " || fail "env $ENV is not the current one"

say "axon cluster info"
"$AXON" cluster info | tee "$WORK/info"
GW=$(grep -o 'gateway: *http://[0-9.:]*' "$WORK/info" | grep -o 'http://.*') || fail "no gateway URL"
grep -q '^operator: *http://' "$WORK/info" || fail "no operator endpoint"

say "the operator runs in Kubernetes mode inside the cluster, with its service account"
"$KUBECTL" -n $NS get deployment axon-operator -o jsonpath='{.spec.template.spec.containers[0].args}'; echo
"$AXON" version

say "deploy echo through the in-cluster operator"
write_echo
echo_spec in-cluster
"$AXON" deploy "$WORK/echo/axon.yaml"
wait_for 180 status_is echo live || fail "echo did not become live"
"$AXON" get
"$KUBECTL" -n $NS get axonapis,deployments,pods -l axon.dev/api=echo -o wide

say "predict through the in-cluster gateway ($GW, a gateway pod fed by the operator)"
wait_for 30 curl -sf -m 10 -X POST "$GW/echo" -H 'Content-Type: application/json' -d '{}' \
  -o "$WORK/answer" || fail "no answer from the gateway"
say "curl: $(cat "$WORK/answer")"
grep -q '"in-cluster"' "$WORK/answer" || fail "unexpected answer"
answer=$(echo '{}' | "$AXON" predict echo -) || fail "axon predict failed"
say "axon predict: $answer"
echo "$answer" | grep -q '"in-cluster"' || fail "unexpected answer from axon predict"

scale_update_rollback in-cluster

say "deploy a TorchScript MLP named by URL (the operator downloads it; the pod fetches it from the operator)"
mkdir -p "$WORK/mlp" "$WORK/served"
/usr/bin/python3 "$ROOT/examples/mlp-torchscript/build_model.py" --out "$WORK/served" >/dev/null
# A model server on the node's bridge address, which pods reach.
/usr/bin/python3 -u -m http.server --bind "$NODE_IP" --directory "$WORK/served" 0 \
  > "$WORK/served.log" 2>&1 &
SERVER_PID=$!
wait_for 10 grep -q "Serving HTTP" "$WORK/served.log" || fail "the model server did not start"
MODEL_URL="http://$NODE_IP:$(grep -o 'port [0-9]*' "$WORK/served.log" | grep -o '[0-9]*')/1/model.pt"
say "model URL: $MODEL_URL"
cat > "$WORK/mlp/axon.yaml" <<YAML
- name: mlp
  kind: RealtimeAPI
  predictor:
    type: torchscript
    model_path: $MODEL_URL
    inputs:
      - {name: x, dtype: float32, shape: [64]}
    threads_per_process: 1
    server_side_batching:
      max_batch_size: 8
  compute:
    cpu: 200m
    mem: 512Mi
YAML
"$AXON" deploy "$WORK/mlp/axon.yaml"
wait_for 240 status_is mlp live || fail "mlp did not become live"
SAMPLE="$ROOT/examples/mlp-torchscript/sample.json"
curl -sf -m 10 -X POST "$GW/mlp" -H 'Content-Type: application/json' -d @"$SAMPLE" \
  -o "$WORK/mlp-answer" || fail "no answer from mlp"
/usr/bin/python3 - "$WORK/served/1/model.pt" "$SAMPLE" "$WORK/mlp-answer" <<'PY' \
  || fail "mlp's answer differs from torch's"
import json, sys
import torch
model = torch.jit.load(sys.argv[1])
x = torch.tensor(json.load(open(sys.argv[2]))["instances"], dtype=torch.float32)
want = model(x).tolist()
got = json.load(open(sys.argv[3]))["predictions"]
assert len(got) == len(want), (got, want)
for g, w in zip(got, want):
    assert max(abs(a - b) for a, b in zip(g, w)) < 1e-4, (g, w)
print("install-e2e: mlp matches torch:", [round(v, 4) for v in got[0][:3]], "...")
PY

say "scale to zero: an idle API goes to 0 pods; a request is held while one starts, then answered"
mkdir -p "$WORK/zero"
cp "$WORK/echo/predictor.py" "$WORK/zero/"
cat > "$WORK/zero/axon.yaml" <<'YAML'
- name: zero
  kind: RealtimeAPI
  predictor:
    type: python
    path: predictor.py
    config: {answer: woke}
  compute: {cpu: 100m, mem: 256Mi}
  autoscaling:
    min_replicas: 0
    max_replicas: 1
    window: 4s
    downscale_stabilization_period: 4s
YAML
"$AXON" deploy --no-wait "$WORK/zero/axon.yaml"
no_zero_pods() { [ -z "$("$KUBECTL" -n $NS get pods -l axon.dev/api=zero -o name)" ]; }
wait_for 60 replicas_are zero 0 || fail "zero did not go to 0 replicas"
wait_for 60 no_zero_pods || fail "zero's pods did not go"
say "zero: spec.replicas=$(deployment_replicas zero), no pods; now a request"
start=$SECONDS
answer=$(curl -sf -m 60 -X POST "$GW/zero" -H 'Content-Type: application/json' -d '{}') \
  || fail "the request to an API at zero replicas was not answered"
say "answered after $((SECONDS - start)) s: $answer (spec.replicas=$(deployment_replicas zero))"
echo "$answer" | grep -q '"woke"' || fail "unexpected answer from zero"
"$AXON" delete zero

say "axon logs echo: the replica pods' lines through the operator"
"$AXON" logs echo --tail 20 | tee "$WORK/logs"
grep -q "ready" "$WORK/logs" || fail "no replica line in axon logs"

say "the operator pod deleted under load: its state is on its volume, the gateways keep serving"
versions_before=$("$AXON" get -o json | /usr/bin/python3 -c "import json,sys; print(sorted((a['name'], a['version']) for a in json.load(sys.stdin)))")
old_pod=$("$KUBECTL" -n $NS get pods -l app.kubernetes.io/component=operator -o jsonpath='{.items[0].metadata.name}')
: > "$WORK/failures"
load 2 60 "$WORK/failures" "$GW/echo"
load 2 60 "$WORK/failures" "$GW/mlp" "$SAMPLE"
sleep 5
"$KUBECTL" -n $NS delete pod "$old_pod" --wait=true
new_operator_ready() {
  local pod
  pod=$("$KUBECTL" -n $NS get pods -l app.kubernetes.io/component=operator -o jsonpath='{range .items[?(@.status.containerStatuses[0].ready==true)]}{.metadata.name}{"\n"}{end}')
  [ -n "$pod" ] && [ "$pod" != "$old_pod" ]
}
wait_for 120 new_operator_ready || fail "no new operator pod became ready"
say "new operator pod: $("$KUBECTL" -n $NS get pods -l app.kubernetes.io/component=operator -o name)"
wait_for 60 "$AXON" get >/dev/null || fail "the new operator does not answer"
versions_after=$("$AXON" get -o json | /usr/bin/python3 -c "import json,sys; print(sorted((a['name'], a['version']) for a in json.load(sys.stdin)))")
say "APIs and versions before: $versions_before, after: $versions_after"
[ "$versions_before" = "$versions_after" ] || fail "the new operator lost APIs or versions"
wait_load
say "load done: $(wc -l < "$WORK/failures") failed requests"
[ ! -s "$WORK/failures" ] || { cat "$WORK/failures"; fail "requests failed while the operator was replaced"; }
"$AXON" get

say "a new mlp pod fetches version 1's bundle from the new operator"
mlp_pod=$("$KUBECTL" -n $NS get pods -l axon.dev/api=mlp -o jsonpath='{.items[0].metadata.name}')
"$KUBECTL" -n $NS delete pod "$mlp_pod" --wait=true
mlp_replaced() {
  local pods
  pods=$("$KUBECTL" -n $NS get pods -l axon.dev/api=mlp -o jsonpath='{range .items[?(@.status.containerStatuses[0].ready==true)]}{.metadata.name}{"\n"}{end}')
  [ -n "$pods" ] && ! echo "$pods" | grep -qx "$mlp_pod"
}
wait_for 180 mlp_replaced || fail "the new mlp pod did not become ready (bundle lost?)"
wait_for 60 curl -sf -m 10 -X POST "$GW/mlp" -d @"$SAMPLE" -o /dev/null || fail "mlp does not answer"
say "mlp answers from pod $("$KUBECTL" -n $NS get pods -l axon.dev/api=mlp -o name)"

say "the operator's /metrics: the gateway pod's series, labelled with the pod"
TOKEN=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['envs']['$ENV']['token'])" "$AXON_HOME/cli_envs.json")
OPERATOR=$(grep -o 'operator: *http://[0-9.:]*' "$WORK/info" | grep -o 'http://.*')
curl -sf -m 10 -H "Authorization: Bearer $TOKEN" "$OPERATOR/metrics" -o "$WORK/metrics" \
  || fail "the operator's /metrics did not answer"
grep -m 2 'gateway="axon-gateway-' "$WORK/metrics" || fail "no gateway pod's series in /metrics"

say "axon delete echo and mlp"
"$AXON" delete echo
"$AXON" delete mlp
gone() { [ -z "$("$KUBECTL" -n $NS get axonapis,deployments,configmaps,pods -l "axon.dev/api=$1" -o name 2>/dev/null)" ]; }
wait_for 90 gone echo || fail "objects of echo are left"
wait_for 90 gone mlp || fail "objects of mlp are left"
wait_for 90 gone zero || fail "objects of zero are left"

say "axon cluster uninstall"
"$AXON" cluster uninstall --timeout-s 180 || fail "uninstall failed"
left=$(leftovers)
[ -z "$left" ] || fail "left behind: $left"
"$KUBECTL" get namespace $NS >/dev/null 2>&1 && fail "namespace $NS is still there"
"$AXON" env list
"$AXON" env list | grep -q "^\* *local " || fail "the current env is not local after uninstall"
say "nothing labelled app.kubernetes.io/part-of=axon is left"
say "PASSED"
