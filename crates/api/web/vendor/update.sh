#!/usr/bin/env bash
# Vendors the web UI's libraries (the hls.js and dash.js players, the tus-js-client uploader) from
# the npm registry into this directory, once, by hand.
# The results are committed: the server embeds them, so nothing is fetched at build or run time.
#   crates/api/web/vendor/update.sh            # the pinned versions below
#   HLS_VERSION=x.y.z DASH_VERSION=x.y.z TUS_VERSION=x.y.z crates/api/web/vendor/update.sh
# After changing a version, update the paths in ../index.html (they carry the version so the
# files can be cached for a year) and in crates/api/src/http/web.rs (which embeds them), and
# remove the old directory. tests/browser pins the same tus-js-client version for its node test.
set -euo pipefail
HLS_VERSION="${HLS_VERSION:-1.7.4}"
DASH_VERSION="${DASH_VERSION:-5.2.1}"
TUS_VERSION="${TUS_VERSION:-4.3.1}"

here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

fetch() { # package version -> extracted into $tmp/<package>/package
  mkdir -p "$tmp/$1"
  (cd "$tmp/$1" && npm pack --silent "$1@$2" >/dev/null && tar xzf ./*.tgz)
}

fetch hls.js "$HLS_VERSION"
out="$here/hls.js-$HLS_VERSION"
rm -rf "$out" && mkdir -p "$out"
cp "$tmp/hls.js/package/dist/hls.min.js" "$tmp/hls.js/package/LICENSE" "$out/"

fetch dashjs "$DASH_VERSION"
out="$here/dashjs-$DASH_VERSION"
rm -rf "$out" && mkdir -p "$out"
dist="$tmp/dashjs/package/dist/modern/umd"
cp "$dist/dash.mediaplayer.min.js" "$dist/dash.mediaplayer.min.js.LICENSE.txt" \
   "$tmp/dashjs/package/LICENSE.md" "$out/"

fetch tus-js-client "$TUS_VERSION"
out="$here/tus-js-client-$TUS_VERSION"
rm -rf "$out" && mkdir -p "$out"
# The browser bundle (UMD, sets the global `tus`); its source map is left out.
cp "$tmp/tus-js-client/package/dist/tus.min.js" "$tmp/tus-js-client/package/LICENSE" "$out/"

ls -l "$here"/*/
