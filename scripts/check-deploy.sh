#!/usr/bin/env bash
# make test: checks what deploys pesd.
#   - the Helm chart deploy/helm/pes: helm lint --strict, and helm template
#     of each store and option, checked for what each must render (and a
#     release without a token must be refused);
#   - the systemd unit examples/deploy/pesd.service: systemd-analyze verify
#     and its exposure score (systemd-analyze security), where systemd-analyze
#     exists; it says so when it does not;
#   - the Dockerfile deploy/docker/Dockerfile: hadolint when it is on PATH,
#     else docker build when a Docker engine answers, else the
#     dockerfile-utils linter from npm (hadolint is packaged by neither
#     Debian, npm nor the Go module proxy).
# helm and dockerfile-utils are built or installed once per machine and
# cached in ~/.cache/pes, with progress output.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

HELM_VERSION=v3.16.4
DOCKERFILE_UTILS_VERSION=0.16.3
cache=${PES_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pes}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
say() { echo "== deploy: $*" >&2; }
fail() { echo "deploy: FAIL: $*" >&2; exit 1; }

# Helm.
helm=$(scripts/cached-go-install.sh helm.sh/helm/v3/cmd/helm "$HELM_VERSION" \
  "make test lints deploy/helm/pes with helm, which is not built yet")
chart=deploy/helm/pes
export HELM_CACHE_HOME=$tmp/helm-cache HELM_CONFIG_HOME=$tmp/helm-config HELM_DATA_HOME=$tmp/helm-data
say "helm lint --strict $chart"
nice -n 10 "$helm" lint --strict "$chart" --set token.value=lint-token
nice -n 10 "$helm" lint --strict "$chart" --set token.existingSecret=pes-token \
  --set store.kind=postgres --set store.postgres.existingSecret=pes-dsn \
  --set serviceMonitor.enabled=true --set kubernetesDriver.enabled=true --set persistence.enabled=false

# render NAME ARGS... renders the chart into $tmp/NAME.yaml.
render() {
  local name=$1
  shift
  nice -n 10 "$helm" template pes "$chart" --namespace pes "$@" >"$tmp/$name.yaml" ||
    fail "helm template $* failed"
}
# has NAME TEXT fails unless the rendering NAME holds the line TEXT.
has() { grep -qxF -- "$2" "$tmp/$1.yaml" || fail "helm template ($1) lacks the line: $2"; }
lacks() { ! grep -qF -- "$2" "$tmp/$1.yaml" || fail "helm template ($1) should not render: $2"; }

say "helm template: SQLite, the defaults"
render sqlite --set token.value=t0ken
has sqlite "kind: StatefulSet"
has sqlite "kind: Service"
has sqlite "            - --store=sqlite"
has sqlite "            - --log-format=json"
has sqlite "  volumeClaimTemplates:"
has sqlite "              path: /readyz"
has sqlite "  token: \"dDBrZW4=\""
has sqlite "      automountServiceAccountToken: false"
lacks sqlite "PES_DSN"
lacks sqlite "kind: ServiceMonitor"
lacks sqlite "kind: Role"

say "helm template: PostgreSQL from a Secret, ServiceMonitor, the Kubernetes driver's RBAC"
render postgres --set token.existingSecret=pes-token --set store.kind=postgres \
  --set store.postgres.existingSecret=pes-dsn --set serviceMonitor.enabled=true \
  --set kubernetesDriver.enabled=true --set 'kubernetesDriver.namespaces={default,batch}' --set persistence.enabled=false
has postgres "            - --store=postgres"
has postgres "            - name: PES_DSN"
has postgres "                  name: pes-dsn"
has postgres "                  name: pes-token"
has postgres "kind: ServiceMonitor"
has postgres "kind: Role"
has postgres "kind: RoleBinding"
has postgres "  namespace: batch"
has postgres "    verbs: [get, list, watch, create, delete]"
[ "$(grep -c '^kind: Role$' "$tmp/postgres.yaml")" = 2 ] || fail "helm template (postgres): want a Role in each of 2 namespaces"
has postgres "      automountServiceAccountToken: true"
lacks postgres "kind: Secret"
lacks postgres "volumeClaimTemplates"

say "helm template: a DSN given inline is stored in a Secret"
render inline --set token.value=t --set store.kind=postgres --set store.postgres.dsn=postgres://pes@db:5432/pes
has inline "  dsn: \"$(printf %s postgres://pes@db:5432/pes | base64 -w0)\""

say "helm template: refused without a token, or with an unknown store"
if nice -n 10 "$helm" template pes "$chart" >"$tmp/none.out" 2>&1; then
  fail "helm template rendered a release without a token"
fi
grep -q "pesd needs an API token" "$tmp/none.out" || fail "no token: $(cat "$tmp/none.out")"
if nice -n 10 "$helm" template pes "$chart" --set token.value=t --set store.kind=mysql >"$tmp/mysql.out" 2>&1; then
  fail "helm template rendered store.kind=mysql"
fi

# systemd.
unit=examples/deploy/pesd.service
if command -v systemd-analyze >/dev/null 2>&1; then
  say "systemd-analyze verify $unit (ExecStart pointed at a pesd built now)"
  go build -o "$tmp/pesd" ./reconciler/cmd/pesd
  sed "s#/usr/local/bin/pesd#$tmp/pesd#" "$unit" >"$tmp/pesd.service"
  systemd-analyze verify "$tmp/pesd.service"
  say "systemd-analyze security: the unit's exposure must stay at or below 2.0"
  systemd-analyze security --offline=true --threshold=20 "$tmp/pesd.service" | tail -n 1
else
  say "systemd-analyze is not installed: $unit is not verified (Debian: apt-get install systemd)"
fi

# Dockerfile.
dockerfile=deploy/docker/Dockerfile
if command -v hadolint >/dev/null 2>&1; then
  say "hadolint $dockerfile"
  hadolint "$dockerfile"
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  say "docker build -f $dockerfile ."
  docker build -f "$dockerfile" -t pesd:check .
else
  say "hadolint is not installed and no Docker engine answers: linting $dockerfile with dockerfile-utils $DOCKERFILE_UTILS_VERSION (npm)"
  du_dir=$cache/dockerfile-utils-$DOCKERFILE_UTILS_VERSION
  du=$du_dir/node_modules/.bin/dockerfile-utils
  if [ ! -x "$du" ]; then
    mkdir -p "$du_dir"
    scripts/progress.sh "installing dockerfile-utils $DOCKERFILE_UTILS_VERSION from npm" \
      "once; it is cached in $du_dir" -- \
      npm install --prefix "$du_dir" --no-audit --no-fund "dockerfile-utils@$DOCKERFILE_UTILS_VERSION"
  fi
  "$du" lint "$dockerfile"
fi
say "ok"
