/*
 * The coverage map: draws the snapshot the server computed (the same one the
 * table shows) into the layers folium made: a circle of the service radius per
 * centre, the centres, covered places (small, grey) and places outside every
 * radius (red, sized by population), and the area seats with their covered
 * share. Every name is inserted as text (textContent), never as HTML.
 * Before printing, the map is fitted to the printed frame.
 */
(function (global) {
  "use strict";
  var cfgNode = document.getElementById("coverage-config");
  var dataNode = document.getElementById("coverage-data");
  if (!cfgNode || !dataNode) return;
  var cfg = JSON.parse(cfgNode.textContent);
  var data = JSON.parse(dataNode.textContent);
  var L = global.L;
  var map = global[cfg.map];
  var labels = cfg.labels;
  var layers = {};
  Object.keys(cfg.layers).forEach(function (k) { layers[k] = global[cfg.layers[k]]; });
  var lang = document.documentElement.lang || "zh-CN";
  var number = new Intl.NumberFormat(lang);
  var percent = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 });
  var KIND_COLOUR = { township_health_centre: "#2e7d32", ems_station: "#ef6c00" };
  var counts = { circles: 0, centres: 0, uncovered: 0, covered: 0, seats: 0 };

  var el = global.CoordinationDom.el;

  function line(label, value) {
    var p = el("p");
    p.appendChild(el("span", "tip-label", label + ": "));
    p.appendChild(el("span", null, value));
    return p;
  }

  function colour(kind) { return KIND_COLOUR[kind] || "#0b5cad"; }

  data.centres.forEach(function (c) {  // [lon, lat, radius_m, kind, name]
    var at = [c[1], c[0]];
    layers.circles.addLayer(L.circle(at, {
      radius: c[2], color: colour(c[3]), weight: 1, opacity: 0.7, fillOpacity: 0.06,
      interactive: false, className: "coverage-circle",
    }));
    counts.circles += 1;
    var tip = el("div", "coverage-tip");
    tip.appendChild(el("strong", null, c[4]));
    tip.appendChild(el("p", null, labels.kinds[c[3]] || c[3]));
    tip.appendChild(line(labels.radius, number.format(c[2] / 1000) + " " + labels.km));
    layers.centres.addLayer(L.circleMarker(at, {
      radius: 4, weight: 1, color: "#fff", fillColor: colour(c[3]), fillOpacity: 1,
    }).bindTooltip(tip));
    counts.centres += 1;
  });

  data.covered.forEach(function (p) {  // [lon, lat]
    layers.covered.addLayer(L.circleMarker([p[1], p[0]], {
      radius: 2, weight: 0, fillColor: "#6b7785", fillOpacity: 0.6, interactive: false,
    }));
    counts.covered += 1;
  });

  data.uncovered.forEach(function (p) {  // [lon, lat, population, name, kind, nearest_km]
    var tip = el("div", "coverage-tip");
    tip.appendChild(el("strong", null, p[3]));
    tip.appendChild(el("p", null, labels.places[p[4]] || p[4]));
    tip.appendChild(line(labels.population, number.format(p[2])));
    tip.appendChild(line(labels.nearest, p[5] === null ? labels.none
      : number.format(p[5]) + " " + labels.km));
    var r = Math.max(4, Math.min(12, Math.sqrt(p[2]) / 8));
    layers.uncovered.addLayer(L.circleMarker([p[1], p[0]], {
      radius: r, weight: 2, color: "#7f0000", fillColor: "#e53935", fillOpacity: 0.85,
      className: "coverage-uncovered",
    }).bindTooltip(tip));
    counts.uncovered += 1;
  });

  data.seats.forEach(function (s) {  // [lon, lat, name, share]
    var marker = L.circleMarker([s[1], s[0]], {
      radius: 4, weight: 2, color: "#12263a", fillColor: "#fff", fillOpacity: 1,
      interactive: false,
    });
    var text = s[2] + (s[3] === null ? "" : " " + percent.format(s[3]));
    marker.bindTooltip(el("span", "seat-label", text), {
      permanent: true, direction: "right", className: "seat-tooltip",
    });
    layers.seats.addLayer(marker);
    counts.seats += 1;
  });

  function fit() {
    map.invalidateSize(false);
    if (cfg.bounds) map.fitBounds(cfg.bounds, { padding: [10, 10], animate: false });
  }
  global.addEventListener("beforeprint", fit);
  global.addEventListener("afterprint", fit);
  var printButton = document.getElementById("coverage-print");
  if (printButton) printButton.addEventListener("click", function () { global.print(); });

  var root = document.getElementById("coverage-map");
  if (root) root.setAttribute("data-state", "ready");
  global.Coordination = global.Coordination || {};
  global.Coordination.coverage = { counts: function () { return counts; }, fit: fit };
})(window);
