#!/usr/bin/env bash
# Install the front-end libraries from the npm registry into app/static/vendor
# and compile the translation catalogues. Quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

vendor=app/static/vendor
stamp=$vendor/.installed
if [[ ! -f $stamp || package.json -nt $stamp ]]; then
    npm install --no-audit --no-fund --loglevel=error >/dev/null
    rm -rf "$vendor"
    mkdir -p "$vendor/leaflet" "$vendor/markercluster" "$vendor/heat" "$vendor/exifr"
    cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css \
        node_modules/leaflet/dist/images "$vendor/leaflet/"
    cp node_modules/leaflet.markercluster/dist/leaflet.markercluster.js \
        node_modules/leaflet.markercluster/dist/MarkerCluster.css \
        node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css \
        "$vendor/markercluster/"
    cp node_modules/leaflet.heat/dist/leaflet-heat.js "$vendor/heat/"
    cp node_modules/exifr/dist/lite.umd.js "$vendor/exifr/exifr.js"
    touch "$stamp"
fi

if compgen -G "app/translations/*/LC_MESSAGES/messages.po" >/dev/null; then
    .venv/bin/pybabel -q compile -d app/translations
fi
