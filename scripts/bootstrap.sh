#!/usr/bin/env bash
# Installs everything the local stack and the tests need, idempotently and cached by version:
#   - .venv with otel-ccmon and its dev dependencies (re-installed when pyproject.toml changes)
#   - Prometheus/promtool, Alertmanager/amtool, node-exporter, VictoriaMetrics: Debian bookworm
#     packages, downloaded and *extracted* (dpkg-deb -x) into the cache, so no postinst ever
#     starts or collides with a system service
#   - otelcol-ccmon, built from collector/builder-config.yaml with the Collector Builder
#   - composecheck (tools/composecheck), compose-go's loader to validate docker-compose.yml
#   - the Claude Code CLI (npm @anthropic-ai/claude-code, pinned), for the real-client contract
#     test; if npm is unreachable its error is kept and that test skips naming it
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
  local dir=$CACHE/debian/prom-${PROMETHEUS_DEB}_am-${ALERTMANAGER_DEB}_ne-${NODE_EXPORTER_DEB}_vm-${VICTORIA_METRICS_DEB}
  if [[ ! -x $dir/usr/bin/promtool ]]; then
    log "binaries: downloading Debian packages into $dir"
    local tmp
    tmp=$(mktemp -d)
    local pkgs=("prometheus=$PROMETHEUS_DEB" "prometheus-alertmanager=$ALERTMANAGER_DEB"
                "prometheus-node-exporter=$NODE_EXPORTER_DEB" "victoria-metrics=$VICTORIA_METRICS_DEB")
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
  # Debian's Alertmanager reads its built-in templates from this absolute path (a Debian patch).
  local tmpl
  for tmpl in /usr/share/prometheus/alertmanager/default.tmpl /usr/share/prometheus/alertmanager/email.tmpl; do
    if ! cmp -s "$dir$tmpl" "$tmpl" 2>/dev/null; then
      if ! { mkdir -p "$(dirname "$tmpl")" && cp "$dir$tmpl" "$tmpl"; } 2>/dev/null; then
        log "binaries: cannot write $tmpl (Debian's Alertmanager needs it); run bootstrap as root once"
        exit 1
      fi
    fi
  done
  ln -sfn "$dir/usr/bin/prometheus" "$BIN/prometheus"
  ln -sfn "$dir/usr/bin/promtool" "$BIN/promtool"
  ln -sfn "$dir/usr/bin/prometheus-alertmanager" "$BIN/alertmanager"
  ln -sfn "$dir/usr/bin/amtool" "$BIN/amtool"
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

case "${1:-all}" in
  python) python_env ;;
  binaries) debian_binaries ;;
  collector) collector ;;
  tools) composecheck ;;
  claude-code) claude_code ;;
  all) python_env; debian_binaries; collector; composecheck; claude_code ;;
  *) echo "usage: $0 [all|python|binaries|collector|tools|claude-code]" >&2; exit 2 ;;
esac
log "ready ($BIN)"
