/* Report page: the map pin, a preview of where the complaint will go, photo
 * locations and nearby duplicates. The form also works without this file:
 * then the place is given as an address and a ward. */
(function () {
  "use strict";

  const dataElement = document.getElementById("report-data");
  const form = document.getElementById("report-form");
  if (!dataElement || !form) return;
  const page = JSON.parse(dataElement.textContent);
  const words = page.strings;

  const byId = (id) => document.getElementById(id);
  const lonInput = byId("lon");
  const latInput = byId("lat");
  const category = byId("category");
  const preview = byId("preview");
  const photos = byId("photos");
  const photoStatus = byId("photos-status");
  const buttons = {
    locate: byId("use-location"), centre: byId("pin-centre"),
    photo: byId("photo-location"), clear: byId("clear-pin"),
  };

  /** Fill %(name)s placeholders of a translated string. */
  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, (match, key) =>
      key in values ? String(values[key]) : match);
  }

  function formatDate(iso) {
    const date = new Date(iso);
    try {
      return date.toLocaleString(page.locale, {dateStyle: "medium",
                                               timeStyle: "short"});
    } catch (err) {
      return date.toLocaleString();
    }
  }

  function wardLabel(code, name) {
    return name && name !== code ? code + " (" + name + ")" : code;
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Show lines of {text, className, alert} in the preview area. */
  function showPreview(lines) {
    preview.replaceChildren(...lines.map((line) => {
      const p = element("p", line.className, line.text);
      if (line.alert) p.setAttribute("role", "alert");
      return p;
    }));
  }

  // ---- Photos: the count and size limits, and locations from EXIF -------

  let map = null;
  let photoPlace = null;
  let photoCheck = 0;

  function photoProblem(files) {
    if (files.length > page.maxPhotos) {
      return fill(words.tooManyPhotos, {n: files.length, limit: page.maxPhotos});
    }
    const big = files.findIndex((file) => file.size > page.maxPhotoBytes);
    return big < 0 ? "" : fill(words.photoTooLarge,
                               {n: big + 1, limit: page.maxPhotoMb});
  }

  async function firstPhotoPlace(files) {
    if (!window.exifr) return null;
    for (const file of files) {
      try {
        const gps = await window.exifr.gps(file);
        if (gps && Number.isFinite(gps.latitude) && Number.isFinite(gps.longitude)) {
          return [gps.latitude, gps.longitude];
        }
      } catch (err) {
        // Not every image has readable EXIF; that is fine.
      }
    }
    return null;
  }

  photos.addEventListener("change", async () => {
    const files = Array.from(photos.files);
    const problem = photoProblem(files);
    photos.setCustomValidity(problem);
    photoStatus.textContent = problem;
    if (problem) photos.setAttribute("aria-invalid", "true");
    else photos.removeAttribute("aria-invalid");

    const check = ++photoCheck;
    buttons.photo.hidden = true;
    const place = await firstPhotoPlace(files.slice(0, page.maxPhotos));
    if (check !== photoCheck) return;
    photoPlace = place;
    buttons.photo.hidden = !(place && map);
  });

  // Re-enable photos if the reader comes back after "Support this instead".
  window.addEventListener("pageshow", () => { photos.disabled = false; });

  // ---- Contact details: cleared and disabled when anonymous -------------

  const anonymous = byId("anonymous");
  const contactInputs = ["name", "email", "phone"].map(byId);

  function applyAnonymous() {
    for (const input of contactInputs) {
      input.disabled = anonymous.checked;
      if (anonymous.checked) input.value = "";
    }
  }
  anonymous.addEventListener("change", applyAnonymous);
  applyAnonymous();

  const summary = byId("error-summary");
  if (summary) summary.focus();

  // ---- The map; without Leaflet the address-and-ward path remains -------

  if (typeof window.L === "undefined") return;
  const L = window.L;
  for (const node of document.querySelectorAll(".js-only")) node.hidden = false;

  map = L.map("map", {center: [page.center[1], page.center[0]],
                      zoom: page.zoom});
  L.tileLayer(page.tiles.url, {attribution: page.tiles.attribution,
                               maxZoom: 19}).addTo(map);
  let marker = null;

  // Tiles need the internet; the ward outlines come from us and always draw.
  fetch(page.urls.wards, {headers: {Accept: "application/geo+json"}})
    .then((response) => (response.ok ? response.json() : null))
    .then((wards) => {
      if (!wards) return;
      const layer = L.geoJSON(wards, {
        interactive: false,
        style: (feature) => ({
          className: "ward-outline ward-" +
            String(feature.properties.ward_code).replace(/[^\w-]/g, "_"),
          color: "#0b5394", weight: 2, fillOpacity: 0.06,
        }),
      }).addTo(map);
      if (!marker && layer.getBounds().isValid()) map.fitBounds(layer.getBounds());
    })
    .catch(() => {});

  function placePin(latlng, zoomIn) {
    latlng = L.latLng(latlng).wrap();
    if (marker) {
      marker.setLatLng(latlng);
    } else {
      marker = L.marker(latlng, {draggable: true, autoPan: true,
                                 title: words.pinTitle, alt: words.pinTitle});
      marker.on("dragend", () => pinMoved(marker.getLatLng()));
      marker.addTo(map);
    }
    if (zoomIn) map.setView(latlng, Math.max(map.getZoom(), 17));
    pinMoved(latlng);
  }

  function pinMoved(latlng) {
    lonInput.value = latlng.lng.toFixed(6);
    latInput.value = latlng.lat.toFixed(6);
    buttons.clear.hidden = false;
    updatePreview();
  }

  function clearPin() {
    if (marker) marker.remove();
    marker = null;
    lonInput.value = "";
    latInput.value = "";
    buttons.clear.hidden = true;
    preview.replaceChildren();
    showDuplicates([]);
  }

  map.on("click", (event) => placePin(event.latlng, false));
  buttons.centre.addEventListener("click", () => placePin(map.getCenter(), false));
  buttons.clear.addEventListener("click", clearPin);
  buttons.photo.addEventListener("click", () => {
    if (photoPlace) placePin(photoPlace, true);
  });
  category.addEventListener("change", () => { if (marker) updatePreview(); });

  if (navigator.geolocation) {
    buttons.locate.hidden = false;
    buttons.locate.addEventListener("click", () => {
      showPreview([{text: words.locating}]);
      navigator.geolocation.getCurrentPosition(
        (position) => placePin([position.coords.latitude,
                                position.coords.longitude], true),
        () => showPreview([{text: words.locationFailed, className: "error",
                            alert: true}]),
        {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    });
  }

  // ---- Preview: ward, department, due time, boundary, duplicates --------

  let pending = null;

  async function updatePreview() {
    if (pending) pending.abort();
    pending = new AbortController();
    const query = new URLSearchParams({lon: lonInput.value, lat: latInput.value});
    if (category.value) query.set("category", category.value);
    showPreview([{text: words.checking}]);
    let response;
    let body;
    try {
      response = await fetch(page.urls.preview + "?" + query,
                             {signal: pending.signal,
                              headers: {Accept: "application/json"}});
      body = await response.json();
    } catch (err) {
      if (err.name === "AbortError") return;
      showPreview([{text: words.previewFailed, className: "warning"}]);
      return;
    }
    if (response.ok) showRoute(body);
    else showRefusal(body && body.error ? body.error.code : "");
  }

  function showRoute(body) {
    const ward = wardLabel(body.ward_code, body.ward_name);
    const lines = body.department_name ? [{
      className: "route",
      text: fill(words.routeTo, {department: body.department_name, ward: ward,
                                 due: formatDate(body.due_at)}),
    }] : [{text: fill(words.inWard, {ward: ward})},
          {text: words.chooseCategory, className: "hint"}];
    if (body.near_boundary) {
      lines.push({text: words.nearBoundary, className: "warning"});
    }
    showPreview(lines);
    showDuplicates(body.duplicates || []);
  }

  function showRefusal(code) {
    const text = {outside_service_area: words.outside,
                  unknown_category: words.unknownCategory}[code];
    showPreview([{text: text || words.previewFailed,
                  className: text ? "error" : "warning", alert: Boolean(text)}]);
    showDuplicates([]);
  }

  // ---- Duplicates: support an existing complaint instead -----------------

  const duplicates = byId("duplicates");
  const duplicateList = byId("duplicate-list");

  function showDuplicates(items) {
    duplicateList.replaceChildren(...items.map(duplicateItem));
    duplicates.hidden = items.length === 0;
  }

  function duplicateItem(item, index) {
    const li = document.createElement("li");
    const about = element("p", "", item.description);
    about.id = "duplicate-" + index;
    const facts = [
      words.statuses[item.status] || item.status,
      fill(words.reportedOn, {date: formatDate(item.created_at)}),
      fill(words.supporters, {n: item.n_supporters}),
      fill(words.distance, {distance: Math.round(item.distance_m)}),
    ];
    const button = element("button", "secondary", words.supportThis);
    button.type = "submit";
    button.formAction = page.urls.support.replace(
      "TRACKING_ID", encodeURIComponent(item.tracking_id));
    button.formNoValidate = true;
    button.setAttribute("aria-describedby", about.id);
    // The photos are for a new report; do not upload them with a support.
    button.addEventListener("click", () => { photos.disabled = true; });
    li.append(about, element("p", "hint", facts.join(" · ")), button);
    return li;
  }

  if (lonInput.value && latInput.value) {
    placePin([Number(latInput.value), Number(lonInput.value)], true);
  }
})();
