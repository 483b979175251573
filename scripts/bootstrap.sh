#!/usr/bin/env bash
# Installs everything the local stack and the tests need, idempotently and cached by version:
#   - .venv with otel-ccmon and its dev dependencies (re-installed when pyproject.toml changes)
#   - Prometheus/promtool 3.x and Alertmanager/amtool from their Go modules (version information
#     set, web UIs built from the modules' sources with Node.js)
#   - node-exporter, VictoriaMetrics: Debian bookworm packages, downloaded and *extracted*
#     (dpkg-deb -x) into the cache, so no postinst ever starts or collides with a system service
#   - otelcol-ccmon, built from collector/builder-config.yaml with the Collector Builder
#   - composecheck (tools/composecheck), compose-go's loader to validate docker-compose.yml
#   - kubeconform and offline JSON schemas (Kubernetes API, Prometheus-Operator CRDs), pinned
#   - the Claude Code CLI (npm @anthropic-ai/claude-code, pinned), for the real-client contract
#     test; if npm is unreachable its error is kept and that test skips naming it
#   - Gemini CLI, Codex CLI and Qwen Code (npm, pinned), for the every-agent tests, likewise
# Cache: ${CCMON_CACHE:-$XDG_CACHE_HOME/otel-ccmon}; links to the binaries in .cache/bin (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=versions.env
source scripts/versions.env
CACHE=${CCMON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/otel-ccmon}
BIN=$ROOT/.cache/bin
mkdir -p "$CACHE" "$BIN"
log() { printf '[bootstrap] %s\n' "$*" >&2; }
hash_of() { sha256sum "$@" | sha256sum | cut -c1-16; }

python_env() {
  local stamp=.venv/.ccmon-stamp want
  want=$(hash_of pyproject.toml)
  if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then return; fi
  log "python: creating .venv and installing otel-ccmon[dev]"
  [[ -x .venv/bin/python ]] || python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e ".[dev]"
  echo "$want" > "$stamp"
}

debian_binaries() {
  local dir=$CACHE/debian/ne-${NODE_EXPORTER_DEB}_vm-${VICTORIA_METRICS_DEB}
  if [[ ! -x $dir/usr/bin/victoria-metrics ]]; then
    log "binaries: downloading Debian packages into $dir"
    local tmp
    tmp=$(mktemp -d)
    local pkgs=("prometheus-node-exporter=$NODE_EXPORTER_DEB" "victoria-metrics=$VICTORIA_METRICS_DEB")
    if ! (cd "$tmp" && apt-get download "${pkgs[@]}" >/dev/null 2>&1); then
      log "binaries: refreshing package lists (apt-get update)"
      apt-get update -qq >/dev/null
      (cd "$tmp" && apt-get download "${pkgs[@]}" >/dev/null)
    fi
    mkdir -p "$dir.partial"
    for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$dir.partial"; done
    rm -rf "$tmp" "$dir"
    mv "$dir.partial" "$dir"
  fi
  ln -sfn "$dir/usr/bin/prometheus-node-exporter" "$BIN/node_exporter"
  ln -sfn "$dir/usr/bin/victoria-metrics" "$BIN/victoria-metrics"
}

collector() {
  local key dir builder
  key=$(hash_of collector/builder-config.yaml collector/*/*.go collector/*/go.mod collector/*/go.sum)-$(go env GOVERSION)
  dir=$CACHE/otelcol/$key
  if [[ ! -x $dir/otelcol-ccmon ]]; then
    builder=$CACHE/tools/builder-v$OTELCOL_CORE_VERSION
    if [[ ! -x $builder ]]; then
      log "collector: installing the Collector Builder v$OTELCOL_CORE_VERSION"
      mkdir -p "$CACHE/tools/gobin"
      GOBIN=$CACHE/tools/gobin go install "go.opentelemetry.io/collector/cmd/builder@v$OTELCOL_CORE_VERSION"
      mv "$CACHE/tools/gobin/builder" "$builder"
    fi
    log "collector: building otelcol-ccmon (cold build takes a few minutes)"
    local work
    work=$(mktemp -d)
    sed -e "s#output_path: ./_build#output_path: $work/_build#" \
        -e "s#path: \./#path: $ROOT/collector/#" \
        -e "s#=> \./#=> $ROOT/collector/#" \
        collector/builder-config.yaml > "$work/builder-config.yaml"
    "$builder" --config "$work/builder-config.yaml" > "$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
    mkdir -p "$dir"
    mv "$work/_build/otelcol-ccmon" "$dir/otelcol-ccmon"
    rm -rf "$work"
  fi
  ln -sfn "$dir/otelcol-ccmon" "$BIN/otelcol-ccmon"
}

composecheck() {
  # compose-go (the loader of `docker compose`) to validate docker-compose.yml: no compose
  # plugin and no engine exist on these machines.
  local key dir
  key=$(hash_of tools/composecheck/go.mod tools/composecheck/go.sum tools/composecheck/main.go)-$(go env GOVERSION)
  dir=$CACHE/composecheck/$key
  if [[ ! -x $dir/composecheck ]]; then
    log "tools: building composecheck (compose-go)"
    mkdir -p "$dir"
    (cd tools/composecheck && go build -o "$dir/composecheck" .)
  fi
  ln -sfn "$dir/composecheck" "$BIN/composecheck"
}

# Prometheus 3 and Alertmanager from their Go modules, with version information (buildinfo) and
# their web UIs: a module zip carries the UI sources, not the built assets, so they are built here
# with the machine's Node.js (pnpm/npm from the npm registry) in a writable copy of the module.
module_copy() { # module@version -> a writable copy of the module's source in $2
  local src
  src=$(GOFLAGS=-mod=mod go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  rm -rf "$2"
  cp -r "$src" "$2"
  chmod -R u+w "$2"
}

# repin_ui COMPONENT "NAME OLD NEW" LOCKFILE PACKAGE_JSON: one UI package the registry here does not
# serve at its locked version, moved to one it serves (scripts/repin_ui_package.py); in the UI folder
repin_ui() {
  [[ -n $2 ]] || return 0
  local name old new
  read -r name old new <<< "$2"
  log "$1: UI lockfile: $name $old -> $new (the registry here does not serve $old)"
  python3 "$ROOT/scripts/repin_ui_package.py" "$3" "$4" "$name" "$old" "$new" "$(npm view "$name@$new" dist.integrity)"
}

# version_ldflags VERSION REVISION: the buildinfo `--version` prints (prometheus/common/version)
version_ldflags() {
  local v=github.com/prometheus/common/version
  printf '%s' "-X $v.Version=$1 -X $v.Revision=$2 -X $v.Branch=module -X $v.BuildUser=otel-ccmon-bootstrap"
}

prometheus3() {
  local dir=$CACHE/prometheus/$PROMETHEUS_VERSION-$(go env GOVERSION) work ldflags
  if [[ ! -x $dir/prometheus || ! -x $dir/promtool ]]; then
    log "prometheus: building $PROMETHEUS_VERSION from github.com/prometheus/prometheus@$PROMETHEUS_MODULE (cold: ~10 min)"
    work=$(mktemp -d)
    module_copy "github.com/prometheus/prometheus@$PROMETHEUS_MODULE" "$work/prometheus"
    (
      cd "$work/prometheus/web/ui"
      # the UI (mantine-ui) and the PromQL editor modules it uses, from the module's pnpm lockfile
      export npm_config_cache=$CACHE/npm CI=1
      repin_ui prometheus "${PROMETHEUS_UI_REPIN:-}" pnpm-lock.yaml mantine-ui/package.json
      npx -y "pnpm@$PNPM_VERSION" install --frozen-lockfile > "$work/ui.log" 2>&1 \
        && npx -y "pnpm@$PNPM_VERSION" run build:module >> "$work/ui.log" 2>&1 \
        && npx -y "pnpm@$PNPM_VERSION" run build:mantine-ui >> "$work/ui.log" 2>&1 \
        || { tail -40 "$work/ui.log" >&2; exit 1; }
    )
    (cd "$work/prometheus" && bash scripts/compress_assets.sh > /dev/null)
    ldflags=$(version_ldflags "$PROMETHEUS_VERSION" "module-$PROMETHEUS_MODULE")
    mkdir -p "$dir.partial"
    (cd "$work/prometheus" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 go build -tags builtinassets -ldflags "$ldflags" \
        -o "$dir.partial/prometheus" ./cmd/prometheus \
      && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 go build -ldflags "$ldflags" -o "$dir.partial/promtool" ./cmd/promtool)
    rm -rf "$dir" "$work"
    mv "$dir.partial" "$dir"
  fi
  ln -sfn "$dir/prometheus" "$BIN/prometheus"
  ln -sfn "$dir/promtool" "$BIN/promtool"
}

alertmanager() {
  local dir=$CACHE/alertmanager/$ALERTMANAGER_VERSION-$(go env GOVERSION) work ldflags
  if [[ ! -x $dir/alertmanager || ! -x $dir/amtool ]]; then
    log "alertmanager: building $ALERTMANAGER_VERSION from github.com/prometheus/alertmanager@v$ALERTMANAGER_VERSION"
    work=$(mktemp -d)
    module_copy "github.com/prometheus/alertmanager@v$ALERTMANAGER_VERSION" "$work/alertmanager"
    (
      cd "$work/alertmanager/ui/mantine-ui"
      export npm_config_cache=$CACHE/npm
      repin_ui alertmanager "${ALERTMANAGER_UI_REPIN:-}" package-lock.json package.json
      { npm ci --no-audit --no-fund && npm run build; } > "$work/ui.log" 2>&1 || { tail -40 "$work/ui.log" >&2; exit 1; }
    )
    # The classic Elm UI needs the Elm compiler, a binary its npm package fetches from GitHub
    # (unreachable here): "/" forwards to the new UI at /ui/ instead. Served gzipped, as the
    # embedded file server expects.
    mkdir -p "$work/alertmanager/ui/app/dist/elm"
    printf '%s\n' '<!doctype html><meta charset="utf-8"><title>Alertmanager</title>' \
      '<meta http-equiv="refresh" content="0; url=./ui/"><a href="./ui/">Alertmanager UI</a>' \
      | gzip -n > "$work/alertmanager/ui/app/dist/elm/index.html.gz"
    ldflags=$(version_ldflags "$ALERTMANAGER_VERSION" "module-v$ALERTMANAGER_VERSION")
    mkdir -p "$dir.partial"
    (cd "$work/alertmanager" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 go build -ldflags "$ldflags" \
        -o "$dir.partial/alertmanager" ./cmd/alertmanager \
      && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 go build -ldflags "$ldflags" -o "$dir.partial/amtool" ./cmd/amtool)
    rm -rf "$dir" "$work"
    mv "$dir.partial" "$dir"
  fi
  ln -sfn "$dir/alertmanager" "$BIN/alertmanager"
  ln -sfn "$dir/amtool" "$BIN/amtool"
}

# kubeconform and the JSON schemas it validates our Kubernetes manifests against, offline: the
# Kubernetes API's (swagger.json of the pinned k8s.io/kubernetes module) and the Prometheus-
# Operator CRDs' (controller-gen over the pinned pkg/apis/monitoring module); scripts/k8s_schemas.py
k8s_tools() {
  local kc=$CACHE/tools/kubeconform-v$KUBECONFORM_VERSION work swagger
  if [[ ! -x $kc ]]; then
    log "k8s: building kubeconform v$KUBECONFORM_VERSION"
    mkdir -p "$CACHE/tools/gobin"
    GOBIN=$CACHE/tools/gobin GOFLAGS=-mod=mod go install "github.com/yannh/kubeconform/cmd/kubeconform@v$KUBECONFORM_VERSION"
    mv "$CACHE/tools/gobin/kubeconform" "$kc"
  fi
  ln -sfn "$kc" "$BIN/kubeconform"
  local schemas
  schemas=$CACHE/k8s-schemas/k8s-$KUBERNETES_VERSION-operator-$PROMETHEUS_OPERATOR_VERSION-$(hash_of scripts/k8s_schemas.py)
  if [[ ! -f $schemas/.complete ]]; then
    log "k8s: schemas of Kubernetes $KUBERNETES_VERSION and Prometheus-Operator $PROMETHEUS_OPERATOR_VERSION CRDs"
    work=$(mktemp -d)
    printf 'module ccmon.local/crds\n\ngo 1.26\n' > "$work/go.mod"
    printf '%s\n' '//go:build tools' '' 'package crds' '' 'import (' \
      '	_ "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"' \
      '	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"' ')' > "$work/tools.go"
    (
      cd "$work"
      export GOFLAGS=-mod=mod GOWORK=off
      go get "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring@v$PROMETHEUS_OPERATOR_VERSION" \
        "sigs.k8s.io/controller-tools@v$CONTROLLER_TOOLS_VERSION" > /dev/null 2>&1
      go run sigs.k8s.io/controller-tools/cmd/controller-gen crd:allowDangerousTypes=true,maxDescLen=0 \
        paths=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1 output:crd:dir=crds
    )
    swagger=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v$KUBERNETES_VERSION" \
      | "$ROOT/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')/api/openapi-spec/swagger.json
    rm -rf "$schemas.partial"
    .venv/bin/python scripts/k8s_schemas.py "$swagger" "$work/crds" "$schemas.partial" > /dev/null
    touch "$schemas.partial/.complete"
    rm -rf "$schemas" "$work"
    mv "$schemas.partial" "$schemas"
  fi
  ln -sfn "$schemas" "$ROOT/.cache/k8s-schemas"
}

claude_code() {
  local dir=$CACHE/claude-code/$CLAUDE_CODE_VERSION native
  native=$dir/node_modules/@anthropic-ai/claude-code-linux-x64/claude
  if [[ ! -x $native ]]; then
    log "claude-code: installing @anthropic-ai/claude-code@$CLAUDE_CODE_VERSION (npm, ~360 MB)"
    rm -rf "$dir.partial"
    mkdir -p "$dir.partial"
    # --ignore-scripts: the native binary comes as an optional dependency; the postinstall only
    # swaps the wrapper, and we run the binary directly
    if ! npm install --prefix "$dir.partial" --no-audit --no-fund --ignore-scripts \
        "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" > "$CACHE/claude-code.npm.log" 2>&1; then
      log "claude-code: npm install failed (see $CACHE/claude-code.npm.log); the real-client test will skip"
      cp "$CACHE/claude-code.npm.log" "$ROOT/.cache/claude-code.unavailable"
      rm -rf "$dir.partial"
      return 0
    fi
    rm -rf "$dir"
    mv "$dir.partial" "$dir"
  fi
  rm -f "$ROOT/.cache/claude-code.unavailable"
  ln -sfn "$native" "$BIN/claude"
}

# Gemini CLI, Codex CLI and Qwen Code (issue 32), pinned like Claude Code, each in its own cached
# prefix; linked as .cache/bin/gemini, codex, qwen. A failed install is kept and those tests skip.
coding_agent() { # package version binary
  local package=$1 version=$2 name=$3 dir
  dir=$CACHE/agents/${package//\//_}-$version
  if [[ ! -x $dir/node_modules/.bin/$name ]]; then
    log "agents: installing $package@$version (npm)"
    rm -rf "$dir.partial"
    mkdir -p "$dir.partial"
    if ! npm install --prefix "$dir.partial" --no-audit --no-fund --ignore-scripts "$package@$version" \
        > "$CACHE/agents-$name.npm.log" 2>&1; then
      log "agents: npm install of $package failed (see $CACHE/agents-$name.npm.log); its tests will skip"
      cp "$CACHE/agents-$name.npm.log" "$ROOT/.cache/$name.unavailable"
      rm -rf "$dir.partial"
      return 0
    fi
    rm -rf "$dir"
    mv "$dir.partial" "$dir"
  fi
  rm -f "$ROOT/.cache/$name.unavailable"
  ln -sfn "$dir/node_modules/.bin/$name" "$BIN/$name"
}

coding_agents() {
  coding_agent @google/gemini-cli "$GEMINI_CLI_VERSION" gemini &
  coding_agent @openai/codex "$CODEX_VERSION" codex &
  coding_agent @qwen-code/qwen-code "$QWEN_CODE_VERSION" qwen &
  wait
}

jaeger() { # optional tier (Claude Code's traces, issue 21): Jaeger v2 from its Go module
  # its go.mod has replace directives, so `go install` refuses it: a scratch module takes it as a
  # tool (go get -tool) and builds the command; the module has no UI assets (API only locally;
  # compose runs the upstream image with its UI)
  local dir=$CACHE/jaeger/$JAEGER_VERSION-$(go env GOVERSION)
  if [[ ! -x $dir/jaeger ]]; then
    log "jaeger: building $JAEGER_VERSION from github.com/jaegertracing/jaeger (cold: ~10 min)"
    rm -rf "$dir.partial"
    mkdir -p "$dir.partial/src"
    (cd "$dir.partial/src" && GOWORK=off GOFLAGS=-mod=mod go mod init ccmon-jaeger-build > /dev/null 2>&1 \
      && GOWORK=off GOFLAGS=-mod=mod go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@v$JAEGER_VERSION" \
      && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 go build -o "$dir.partial/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger)
    rm -rf "$dir"
    mv "$dir.partial" "$dir"
  fi
  ln -sfn "$dir/jaeger" "$BIN/jaeger"
}

thanos() { # the HA stack's long-term tier (issue 22): Thanos from its Go module
  # `go install` refuses it (replace directives in its go.mod): a writable copy of the module, its
  # own go.mod's dependencies, one binary for every component (sidecar, store, compact, query).
  # The build tags of its release (.promu.yml) are required: without slicelabels its label
  # protobufs (unsafe casts of labels.Labels) compute garbage sizes and the sidecar panics in gRPC.
  local dir=$CACHE/thanos/$THANOS_VERSION-$(go env GOVERSION)-netgo-slicelabels work ldflags
  if [[ ! -x $dir/thanos ]]; then
    log "thanos: building $THANOS_VERSION from github.com/thanos-io/thanos (cold: ~5-8 min)"
    work=$(mktemp -d)
    module_copy "github.com/thanos-io/thanos@v$THANOS_VERSION" "$work/thanos"
    ldflags=$(version_ldflags "$THANOS_VERSION" "module-v$THANOS_VERSION")
    rm -rf "$dir.partial"
    mkdir -p "$dir.partial"
    (cd "$work/thanos" && GOWORK=off GOFLAGS=-mod=mod go mod download \
      && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 go build -tags netgo,slicelabels -ldflags "$ldflags" \
        -o "$dir.partial/thanos" ./cmd/thanos)
    rm -rf "$dir" "$work"
    mv "$dir.partial" "$dir"
  fi
  ln -sfn "$dir/thanos" "$BIN/thanos"
}

browser() { # the report's HTML is rendered in a real browser by the tests (Debian's headless shell)
  local shell=/usr/lib/chromium/chromium-headless-shell
  if [[ ! -x $shell ]] && ! command -v chromium-headless-shell > /dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null; then
      log "browser: installing chromium-headless-shell (Debian, ~220 MB, once per machine)"
      if ! { apt-get install -y --no-install-recommends chromium-headless-shell > "$CACHE/browser.apt.log" 2>&1 ||
             { apt-get update > /dev/null 2>&1 &&
               apt-get install -y --no-install-recommends chromium-headless-shell >> "$CACHE/browser.apt.log" 2>&1; }; }; then
        log "browser: apt-get failed (see $CACHE/browser.apt.log); the page-rendering tests will skip and say so"
        return 0
      fi
    else
      log "browser: not root or no apt-get; install chromium-headless-shell for the page-rendering tests"
      return 0
    fi
  fi
  if [[ -x $shell ]]; then ln -sfn "$shell" "$BIN/chromium-headless-shell"
  else ln -sfn "$(command -v chromium-headless-shell)" "$BIN/chromium-headless-shell"; fi
}

# Runs each argument (a list of steps) in a background subshell, the groups side by side; fails
# when any group failed. The builds are CPU-bound on 2 cores, but each group also waits on
# downloads (Go modules, npm, apt) that the others' compiling fills.
in_parallel() {
  local pids=() group failed=0
  for group in "$@"; do
    # shellcheck disable=SC2086
    ( for step in $group; do "$step"; done ) &  # plain calls: errexit stays on inside each step
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  return "$failed"
}

case "${1:-all}" in
  python) python_env ;;
  binaries) debian_binaries; prometheus3; alertmanager ;;
  collector) collector ;;
  tools) composecheck ;;
  claude-code) claude_code ;;
  agents) coding_agents ;;
  browser) browser ;;
  jaeger) jaeger ;;
  thanos) thanos ;;
  k8s) k8s_tools ;;
  # what `make run` starts, nothing more (the CLI, kubeconform and schemas are for the tests)
  stack) python_env; debian_binaries; prometheus3; alertmanager; collector ;;
  all) python_env; debian_binaries
       in_parallel "prometheus3 alertmanager" "collector jaeger thanos" \
         "composecheck claude_code coding_agents k8s_tools browser" ;;
  *) echo "usage: $0 [all|stack|python|binaries|collector|tools|claude-code|agents|k8s|browser|jaeger|thanos]" >&2; exit 2 ;;
esac
log "ready ($BIN)"
