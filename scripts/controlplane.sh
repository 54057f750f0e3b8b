#!/usr/bin/env bash
# A local Kubernetes control plane for the end-to-end tests (e2e/): etcd + kube-apiserver, built
# from the pinned Go modules in e2e/controlplane/ and run on 127.0.0.1.
#
#   scripts/controlplane.sh build    build (or reuse) the binaries; cached by the hash of go.mod/go.sum
#   scripts/controlplane.sh start    build, then start etcd + kube-apiserver unless already running; waits for /readyz
#   scripts/controlplane.sh stop     stop both (by the PIDs written at start)
#   scripts/controlplane.sh status   exit 0 when the API server answers /readyz, 1 otherwise
#   scripts/controlplane.sh env      print `export KUBECONFIG=...` for a shell (eval "$(scripts/controlplane.sh env)")
#
# Needs: Go (the version e2e/controlplane/go.mod names, or newer), openssl, curl, python3 (free ports).
# State (certificates, kubeconfig, logs, PIDs, etcd data) lives in target/controlplane/
# ($SMI_CONTROLPLANE_DIR overrides); binaries in ${SMI_CACHE:-$HOME/.cache/smi-rs}/controlplane/<hash>/.
#
# What `start` sets up, for the tests:
#   target/controlplane/kubeconfig   cluster https://127.0.0.1:<port>, user `smi-e2e-admin` (static token,
#                                    group system:masters)
#   target/controlplane/ca.crt/.key  the CA that signed the API server's serving certificate; tests that run
#                                    a webhook sign its serving certificate with it and put ca.crt in the
#                                    webhook's caBundle (webhooks must use `url: https://127.0.0.1:<port>/…`:
#                                    this control plane has no Service networking)
#   target/controlplane/token        the admin bearer token
# The admission chain is the API server's default one (MutatingAdmissionWebhook,
# ValidatingAdmissionWebhook, ValidatingAdmissionPolicy, … enabled). No controller-manager runs:
# Jobs are validated and stored, never run; namespaces other than `default` must be created.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MOD="$ROOT/e2e/controlplane"
STATE="${SMI_CONTROLPLANE_DIR:-$ROOT/target/controlplane}"
CACHE="${SMI_CACHE:-$HOME/.cache/smi-rs}/controlplane"
# The Kubernetes release the module pins (also the version the binaries report).
K8S_VERSION="$(awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$MOD/go.mod")"
# Bump when the build command changes, so cached binaries are rebuilt.
BUILD_RECIPE=1

log() { printf 'controlplane: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

bin_dir() {
  local hash
  hash="$(cat "$MOD/go.mod" "$MOD/go.sum" <(echo "recipe $BUILD_RECIPE $(go env GOOS GOARCH)") | sha256sum | cut -c1-16)"
  echo "$CACHE/$hash"
}

cmd_build() {
  command -v go >/dev/null 2>&1 || die "Go is not installed (e2e/controlplane/go.mod says which version)"
  local dir t0
  dir="$(bin_dir)"
  if [ -x "$dir/kube-apiserver" ] && [ -x "$dir/etcd" ]; then
    log "binaries cached in $dir"
    echo "$dir"
    return 0
  fi
  mkdir -p "$dir.tmp"
  t0=$(date +%s)
  local major minor ldflags
  major="$(echo "$K8S_VERSION" | sed -E 's/^v([0-9]+)\..*/\1/')"
  minor="$(echo "$K8S_VERSION" | sed -E 's/^v[0-9]+\.([0-9]+)\..*/\1/')"
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
  ldflags="$ldflags -X k8s.io/component-base/version.gitMajor=$major -X k8s.io/component-base/version.gitMinor=$minor"
  ldflags="$ldflags -X k8s.io/component-base/version.gitTreeState=clean"
  log "building kube-apiserver $K8S_VERSION and etcd from $MOD (cold: ~10-20 min on 2 cores)"
  # -mod=readonly: go.sum is the pin; a missing or changed checksum fails instead of being rewritten.
  (cd "$MOD" && go build -mod=readonly -trimpath -ldflags "$ldflags" \
    -o "$dir.tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
  (cd "$MOD" && go build -mod=readonly -trimpath -ldflags "-s -w" -o "$dir.tmp/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
  log "built in $(( $(date +%s) - t0 )) s: $dir"
  echo "$dir"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

alive() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

readyz() {
  [ -f "$STATE/port" ] && [ -f "$STATE/ca.crt" ] || return 1
  curl -fsS --max-time 5 --cacert "$STATE/ca.crt" -H "Authorization: Bearer $(cat "$STATE/token")" \
    "https://127.0.0.1:$(cat "$STATE/port")/readyz" >/dev/null 2>&1
}

cmd_status() {
  if alive etcd && alive kube-apiserver && readyz; then
    log "running: https://127.0.0.1:$(cat "$STATE/port") (kubeconfig $STATE/kubeconfig)"
    return 0
  fi
  log "not running (start it with: scripts/controlplane.sh start)"
  return 1
}

gen_certs() {
  command -v openssl >/dev/null 2>&1 || die "openssl is not installed"
  local d="$STATE"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=smi-e2e-ca" \
    -keyout "$d/ca.key" -out "$d/ca.crt" >/dev/null 2>&1
  openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=kube-apiserver" \
    -keyout "$d/apiserver.key" -out "$d/apiserver.csr" >/dev/null 2>&1
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n' \
    >"$d/apiserver.ext"
  openssl x509 -req -sha256 -days 3650 -in "$d/apiserver.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
    -CAcreateserial -extfile "$d/apiserver.ext" -out "$d/apiserver.crt" >/dev/null 2>&1
  openssl genrsa -out "$d/sa.key" 2048 >/dev/null 2>&1
  openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" >/dev/null 2>&1
  chmod 600 "$d"/*.key
}

cmd_start() {
  if cmd_status 2>/dev/null; then
    log "already running"
    return 0
  fi
  cmd_stop >/dev/null 2>&1 || true
  local dir
  dir="$(cmd_build)"
  local t0
  t0=$(date +%s%N)
  rm -rf "$STATE"
  mkdir -p "$STATE"
  gen_certs
  local token
  token="$(openssl rand -hex 24)"
  echo "$token" >"$STATE/token"
  chmod 600 "$STATE/token"
  echo "$token,smi-e2e-admin,smi-e2e-admin,system:masters" >"$STATE/tokens.csv"
  local etcd_port peer_port port
  etcd_port="$(free_port)"
  peer_port="$(free_port)"
  port="$(free_port)"
  echo "$port" >"$STATE/port"

  # etcd: plain HTTP on loopback, fsync off (a throwaway test store).
  setsid "$dir/etcd" --name smi-e2e --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "smi-e2e=http://127.0.0.1:$peer_port" --unsafe-no-fsync --log-level warn \
    </dev/null >"$STATE/etcd.log" 2>&1 &
  echo $! >"$STATE/etcd.pid"

  setsid "$dir/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$port" \
    --cert-dir "$STATE" --tls-cert-file "$STATE/apiserver.crt" --tls-private-key-file "$STATE/apiserver.key" \
    --client-ca-file "$STATE/ca.crt" \
    --token-auth-file "$STATE/tokens.csv" \
    --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$STATE/sa.pub" --service-account-signing-key-file "$STATE/sa.key" \
    --service-cluster-ip-range 10.96.0.0/24 \
    --allow-privileged=true \
    --endpoint-reconciler-type none \
    --v 1 \
    </dev/null >"$STATE/kube-apiserver.log" 2>&1 &
  echo $! >"$STATE/kube-apiserver.pid"

  cat >"$STATE/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: smi-e2e
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority-data: $(base64 -w0 <"$STATE/ca.crt")
users:
- name: smi-e2e-admin
  user:
    token: $token
contexts:
- name: smi-e2e
  context: {cluster: smi-e2e, user: smi-e2e-admin, namespace: default}
current-context: smi-e2e
EOF
  chmod 600 "$STATE/kubeconfig"

  local deadline=$(( $(date +%s) + ${SMI_CONTROLPLANE_TIMEOUT:-180} ))
  until readyz; do
    if ! alive etcd || ! alive kube-apiserver || [ "$(date +%s)" -ge "$deadline" ]; then
      log "the control plane did not become ready; last log lines:"
      tail -n 20 "$STATE/etcd.log" >&2 || true
      tail -n 40 "$STATE/kube-apiserver.log" >&2 || true
      cmd_stop || true
      exit 1
    fi
    sleep 0.5
  done
  log "ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms: https://127.0.0.1:$port ($K8S_VERSION)"
  log "kubeconfig: $STATE/kubeconfig"
}

stop_one() {
  local name="$1" pid i
  [ -f "$STATE/$name.pid" ] || return 0
  pid="$(cat "$STATE/$name.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/$name.pid"
}

cmd_stop() {
  stop_one kube-apiserver
  stop_one etcd
  log "stopped"
}

cmd_env() {
  echo "export KUBECONFIG=\"$STATE/kubeconfig\""
  echo "export SMI_E2E_KUBECONFIG=\"$STATE/kubeconfig\""
}

case "${1:-}" in
  build) cmd_build >/dev/null ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *)
    echo "usage: $0 build|start|stop|status|env" >&2
    exit 2
    ;;
esac
