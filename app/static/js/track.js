// Small map of one complaint: its pin (unless an operator has still to place
// it) and the outline of its ward, which shows even when tiles do not load.
(function () {
  "use strict";
  var el = document.getElementById("complaint-map");
  var source = document.getElementById("complaint-map-config");
  if (!el || !source || !window.L) { return; }
  var cfg = JSON.parse(source.textContent);

  var map = L.map(el, { scrollWheelZoom: false });
  L.tileLayer(cfg.tileUrl, { attribution: cfg.tileAttribution, maxZoom: 19 })
    .addTo(map);
  var ward = null;
  if (cfg.ward) {
    ward = L.geoJSON(cfg.ward, {
      style: { color: "#0b5394", weight: 2, fillOpacity: 0.05 },
      interactive: false
    }).addTo(map);
  }
  if (cfg.point) {
    L.marker(cfg.point, { keyboard: false }).addTo(map);
    map.setView(cfg.point, 16);
  } else if (ward) {
    map.fitBounds(ward.getBounds(), { padding: [8, 8] });
  }
})();
