#!/usr/bin/env bash
# Sets up everything the project needs on a fresh machine, idempotently:
# uv and the locked Python environment, generated protobuf code, the DejaVu fonts the gateway embeds in
# resume PDFs (Debian's fonts-dejavu-core) and, with
# --postgres, PostgreSQL server binaries from Debian's packages; with --promtool, Prometheus's
# promtool for the alert rules' tests, and with --prometheus the Prometheus server itself, which
# the observability test runs against the live system (both from Debian's prometheus package);
# with --helm, the chart's tools:
# Helm built from its Go module (the machine's Go toolchain, with Go's own caches) and checkov in a
# venv of its own from deploy/helm/checkov/requirements.lock, both kept in the state folder by version;
# with --docker, what builds and runs the container images (make images, docker-compose.yml):
# Debian's docker.io (the engine, started by qlcb_devstack when none runs), docker-compose and
# mmdebstrap (the base image); with --browser, Debian's chromium, which the web pages' tests drive
# headless through Playwright (tests/integration/test_web.py; Playwright's own browser download is not used),
# and axe-core from npm (pinned, in the state folder), the accessibility check those tests run in each page.
# Keycloak and NATS are fetched on first use by qlcb_devstack (cached in the state folder).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
state=${QLCB_STATE_DIR:-$root/.state}
uv_version=0.13.9
want_postgres=0
want_promtool=0
want_prometheus=0
want_helm=0
want_docker=0
want_browser=0
helm_version=v3.22.0
axe_version=4.14.1
for arg in "$@"; do
  case $arg in
    --postgres) want_postgres=1 ;;
    --promtool) want_promtool=1 ;;
    --prometheus) want_prometheus=1 ;;
    --helm) want_helm=1 ;;
    --docker) want_docker=1 ;;
    --browser) want_browser=1 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Python 3.11 or newer is required (found $("$python" --version 2>&1))" >&2
  exit 1
fi

mkdir -p "$state"
uv="$state/bootstrap/bin/uv"
if [ ! -x "$uv" ] || [ "$("$uv" --version | awk '{print $2}')" != "$uv_version" ]; then
  "$python" -m venv "$state/bootstrap"
  "$state/bootstrap/bin/pip" install --quiet --disable-pip-version-check "uv==$uv_version"
fi

cd "$root"
if [ ! -x .venv/bin/python ]; then
  "$uv" venv --quiet --python "$python" .venv
fi
stamp=.venv/.qlcb-lock-sha
lock_sha=$(cat requirements.lock libs/*/pyproject.toml tools/*/pyproject.toml services/*/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sha" ]; then
  VIRTUAL_ENV=.venv "$uv" pip install --quiet --require-hashes -r requirements.lock
  editable=()
  for p in libs/* tools/* services/*; do editable+=(-e "$p"); done
  VIRTUAL_ENV=.venv "$uv" pip install --quiet --no-deps --no-build-isolation --reinstall "${editable[@]}"
  echo "$lock_sha" > "$stamp"
fi

"$root/scripts/gen-proto.sh"

# The gateway embeds DejaVu Serif in every resume PDF and does not start without it.
if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf ]; then
  echo "installing the DejaVu fonts (fonts-dejavu-core) from Debian's packages" >&2
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends fonts-dejavu-core >/dev/null
fi

if [ "$want_postgres" = 1 ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing PostgreSQL server binaries from Debian's packages" >&2
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq postgresql >/dev/null
fi

if { [ "$want_promtool" = 1 ] && ! command -v promtool >/dev/null; } ||
  { [ "$want_prometheus" = 1 ] && ! command -v prometheus >/dev/null; }; then
  echo "installing Prometheus and promtool (the prometheus package) from Debian's packages" >&2
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

if [ "$want_helm" = 1 ]; then
  helm="$state/helm/$helm_version/bin/helm"
  if [ ! -x "$helm" ]; then
    if ! command -v go >/dev/null; then
      echo "building Helm needs Go (go install helm.sh/helm/v3/cmd/helm@$helm_version): install a Go toolchain" >&2
      exit 1
    fi
    echo "building Helm $helm_version from its Go module (a few minutes the first time on a machine)" >&2
    # Go's own module and build caches, which every clone on the machine shares, make the build in a
    # fresh clone (CI's) a link step; only the binary goes in the state folder.
    GOBIN="$state/helm/$helm_version/bin" go install "helm.sh/helm/v3/cmd/helm@$helm_version"
  fi
  checkov_lock=deploy/helm/checkov/requirements.lock
  checkov_sha=$(sha256sum "$checkov_lock" | cut -d' ' -f1)
  checkov_venv="$state/checkov/$checkov_sha"
  if [ ! -x "$checkov_venv/bin/checkov" ]; then
    echo "installing checkov from $checkov_lock" >&2
    "$uv" venv --quiet --python "$python" "$checkov_venv"
    VIRTUAL_ENV="$checkov_venv" "$uv" pip install --quiet --require-hashes -r "$checkov_lock"
  fi
  ln -sfn "$checkov_venv" "$state/checkov/current"
fi

if [ "$want_docker" = 1 ] && { [ ! -x /usr/sbin/dockerd ] || ! command -v docker-compose >/dev/null || ! command -v mmdebstrap >/dev/null; }; then
  echo "installing Docker Engine (docker.io), docker-compose and mmdebstrap from Debian's packages" >&2
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    docker.io docker-compose mmdebstrap >/dev/null
fi

if [ "$want_browser" = 1 ] && { ! command -v chromium >/dev/null || ! command -v npm >/dev/null; }; then
  echo "installing Chromium (chromium) and npm from Debian's packages" >&2
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  packages=(chromium)
  command -v npm >/dev/null || packages+=(npm)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

if [ "$want_browser" = 1 ]; then
  axe="$state/axe-core/$axe_version"
  if [ ! -f "$axe/node_modules/axe-core/axe.min.js" ]; then
    echo "installing axe-core $axe_version from npm" >&2
    mkdir -p "$axe"
    npm install --prefix "$axe" --no-save --no-package-lock --no-audit --no-fund --ignore-scripts \
      "axe-core@$axe_version" >/dev/null
  fi
fi
