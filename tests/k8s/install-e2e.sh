#!/usr/bin/env bash
# End to end with Axon installed *in* the cluster: `axon cluster install` (the operator in
# Kubernetes mode with its service account, the gateway as pods fed route tables by the
# operator, both reached from this machine through NodePort Services), `axon env use`, then
# the same verbs as locally, a prediction through the in-cluster gateway, and `axon cluster
# uninstall` leaving nothing labelled app.kubernetes.io/part-of=axon. Run by scripts/test-k8s;
# needs KUBECONFIG and the images loaded as axon-control:$TAG and axon-replica:$TAG.
#
#   tests/k8s/install-e2e.sh BUILD_DIR TAG
set -euo pipefail
BUILD=$(cd "$1" && pwd)
TAG=$2
NS=axon-install-e2e
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
cleanup() {
  "$KUBECTL" delete namespace $NS --wait=false >/dev/null 2>&1 || true
  rm -rf "$WORK"
  [ "${KEEP_HOME:-0}" = 1 ] || rm -rf "$AXON_HOME"
}
trap cleanup EXIT

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
leftovers() {
  "$KUBECTL" get namespaces,customresourcedefinitions -l app.kubernetes.io/part-of=axon -o name 2>/dev/null
  "$KUBECTL" -n $NS get all,configmaps,secrets,serviceaccounts,roles,rolebindings \
    -l app.kubernetes.io/part-of=axon -o name 2>/dev/null
}

say "axon cluster install (namespace $NS, images axon-control:$TAG, axon-replica:$TAG)"
"$AXON" cluster install --kubeconfig "$KUBECONFIG" --env $ENV --namespace $NS \
  --image-tag "$TAG" --image-pull-policy Never --timeout-s 240 || fail "install failed"
"$KUBECTL" -n $NS get deployments,services,pods -o wide
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
mkdir -p "$WORK/echo"
cat > "$WORK/echo/predictor.py" <<'PY'
import os


class PythonPredictor:
    def __init__(self, config):
        self.config = config

    def predict(self, payload):
        return {"answer": self.config["answer"], "pod": os.environ.get("POD_NAME", "")}
PY
cat > "$WORK/echo/axon.yaml" <<'YAML'
- name: echo
  kind: RealtimeAPI
  predictor:
    type: python
    path: predictor.py
    config:
      answer: in-cluster
  compute:
    cpu: 100m
    mem: 256Mi
YAML
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

say "axon delete echo"
"$AXON" delete echo
gone() { [ -z "$("$KUBECTL" -n $NS get axonapis,deployments,configmaps,pods -l axon.dev/api=echo -o name 2>/dev/null)" ]; }
wait_for 90 gone || fail "objects of echo are left"

say "axon cluster uninstall"
"$AXON" cluster uninstall --timeout-s 180 || fail "uninstall failed"
left=$(leftovers)
[ -z "$left" ] || fail "left behind: $left"
"$KUBECTL" get namespace $NS >/dev/null 2>&1 && fail "namespace $NS is still there"
"$AXON" env list
"$AXON" env list | grep -q "^\* *local " || fail "the current env is not local after uninstall"
say "nothing labelled app.kubernetes.io/part-of=axon is left"
say "PASSED"
