// The public map of complaints. Far out, the server counts complaints per grid
// cell and we draw one sized circle per cell (or a heat layer from the same
// counts); close in, it sends single complaints, which markercluster groups.
// Data is fetched again for the visible box whenever the map stops moving.
(function () {
  "use strict";
  var el = document.getElementById("public-map");
  var source = document.getElementById("public-map-config");
  if (!el || !source || !window.L) { return; }
  var cfg = JSON.parse(source.textContent);
  var form = document.getElementById("map-filters");
  var heatToggle = document.getElementById("heat-toggle");
  var statusLine = document.getElementById("map-status");

  var filterBox = document.getElementById("map-filter-box");
  // Phones get the map first; wider screens have room for the filters too.
  if (filterBox && window.matchMedia("(min-width: 48rem)").matches) {
    filterBox.open = true;
  }

  var map = L.map(el, { zoomSnap: 1 });
  L.tileLayer(cfg.tileUrl, { attribution: cfg.tileAttribution, maxZoom: 19 })
    .addTo(map);
  // A view kept in the address (#zoom/lat/lon) can be shared or reloaded.
  var kept = /^#(\d+)\/(-?[\d.]+)\/(-?[\d.]+)$/.exec(location.hash);
  if (kept) {
    map.setView([Number(kept[2]), Number(kept[3])], Number(kept[1]));
  } else if (cfg.bounds) {
    map.fitBounds(cfg.bounds);
  } else {
    map.setView(cfg.center, cfg.zoom);
  }

  function keepView() {
    var c = map.getCenter();
    history.replaceState(null, "", location.pathname + location.search + "#" +
      map.getZoom() + "/" + c.lat.toFixed(5) + "/" + c.lng.toFixed(5));
  }

  var wards = L.geoJSON(null, {
    style: { color: "#4a4a4a", weight: 1, fill: false },
    interactive: false
  }).addTo(map);
  var cells = L.layerGroup().addTo(map);
  var points = L.markerClusterGroup({ chunkedLoading: true }).addTo(map);
  // Weights are already counts per cell: maxZoom 0 stops the plugin from
  // fading them further at lower zoom levels.
  var heat = L.heatLayer([], { radius: 36, blur: 28, maxZoom: 0 });
  var pending = null;
  var lastCells = [];

  function say(template, n) {
    statusLine.textContent = template.replace("{n}",
      typeof n === "number" ? n.toLocaleString() : "");
  }

  function filterParams() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (value) { params.set(key, value); }
    });
    return params;
  }

  function clamp(value, limit) { return Math.max(-limit, Math.min(limit, value)); }

  function viewParams() {
    var b = map.getBounds();
    var params = filterParams();
    params.set("bbox", [clamp(b.getWest(), 180), clamp(b.getSouth(), 90),
                        clamp(b.getEast(), 180), clamp(b.getNorth(), 90)]
      .map(function (v) { return v.toFixed(6); }).join(","));
    params.set("zoom", String(Math.round(map.getZoom())));
    return params;
  }

  // Cells are 64 px wide; keep circles inside them so that they do not merge.
  function cellRadius(n) { return Math.min(26, 7 + 2.5 * Math.log2(n)); }

  function drawCells(features) {
    cells.clearLayers();
    lastCells = features.map(function (f) {
      var lon = f.geometry.coordinates[0], lat = f.geometry.coordinates[1];
      var n = f.properties.n_complaints;
      var circle = L.circleMarker([lat, lon], {
        radius: cellRadius(n), color: "#0b5394", weight: 1,
        fillColor: "#0b5394", fillOpacity: 0.55
      });
      circle.bindTooltip(n.toLocaleString(), {
        permanent: true, direction: "center", className: "cell-count"
      });
      circle.on("click", function () {
        map.setView([lat, lon], Math.min(map.getZoom() + 2, cfg.pointsMinZoom));
      });
      cells.addLayer(circle);
      return [lat, lon, n];
    });
  }

  function popupFor(props) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = props.category_name;
    var status = document.createElement("div");
    status.textContent = cfg.statusLabels[props.status] || props.status;
    var filed = document.createElement("div");
    filed.textContent = cfg.text.filed.replace("{date}",
      new Date(props.created_at).toLocaleDateString(document.documentElement.lang));
    var link = document.createElement("a");
    link.href = cfg.trackUrl.replace("TRACKING-ID", props.tracking_id);
    link.textContent = cfg.text.open.replace("{id}", props.tracking_id);
    [title, status, filed, link].forEach(function (n) { box.appendChild(n); });
    return box;
  }

  // Markers are kept by tracking id between reloads, so that a popup stays
  // open when opening it pans the map and so fetches the data again.
  var shown = {};

  function drawPoints(features) {
    var next = {}, added = [], removed = [];
    features.forEach(function (f) {
      var id = f.properties.tracking_id;
      next[id] = shown[id] || newMarker(f);
      if (!shown[id]) { added.push(next[id]); }
    });
    Object.keys(shown).forEach(function (id) {
      if (!next[id]) { removed.push(shown[id]); }
    });
    points.removeLayers(removed);
    points.addLayers(added);
    shown = next;
    lastCells = features.map(function (f) {
      return [f.geometry.coordinates[1], f.geometry.coordinates[0], 1];
    });
  }

  function newMarker(f) {
    var c = f.geometry.coordinates;
    var marker = L.marker([c[1], c[0]], { title: f.properties.category_name });
    marker.bindPopup(function () { return popupFor(f.properties); });
    return marker;
  }

  function clearPoints() {
    points.clearLayers();
    shown = {};
  }

  // Single complaints weigh 1 each; a few together make the hottest colour.
  var POINTS_HEAT_MAX = 4;

  function drawHeat(kind) {
    var max = kind === "points" ? POINTS_HEAT_MAX :
      lastCells.reduce(function (m, c) { return Math.max(m, c[2]); }, 1);
    heat.setOptions({ max: max });
    heat.setLatLngs(lastCells);
  }

  function showLayers(kind) {
    var useHeat = heatToggle.checked;
    toggle(heat, useHeat);
    toggle(cells, !useHeat && kind === "cells");
    toggle(points, !useHeat && kind === "points");
  }

  function toggle(layer, on) {
    if (on && !map.hasLayer(layer)) { map.addLayer(layer); }
    if (!on && map.hasLayer(layer)) { map.removeLayer(layer); }
  }

  function report(data) {
    if (!data.n_complaints) { say(cfg.text.none); return; }
    if (data.truncated) { say(cfg.text.truncated, data.features.length); return; }
    say(data.kind === "cells" ? cfg.text.cells : cfg.text.points,
        data.n_complaints);
  }

  var lastKind = "cells";
  function reload() {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    say(cfg.text.loading);
    fetch(cfg.dataUrl + "?" + viewParams().toString(), { signal: pending.signal })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (data) {
        lastKind = data.kind;
        if (data.kind === "cells") {
          clearPoints();
          drawCells(data.features);
        } else {
          cells.clearLayers();
          drawPoints(data.features);
        }
        drawHeat(data.kind);
        showLayers(lastKind);
        report(data);
      })
      .catch(function (err) {
        if (err.name !== "AbortError") { say(cfg.text.failed); }
      });
  }

  fetch(cfg.wardsUrl)
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (data) { if (data) { wards.addData(data); } })
    .catch(function () { /* the map works without outlines */ });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var query = filterParams().toString();
    history.replaceState(null, "", form.action + (query ? "?" + query : "") +
      location.hash);
    reload();
  });
  heatToggle.addEventListener("change", function () { showLayers(lastKind); });
  map.on("moveend", function () { keepView(); reload(); });
  reload();
})();
