// Live layer of the wallboard map: units and incidents drawn on a Leaflet canvas, patched in place from Python
// through runJavaScript with JSON diffs. Every string is put on the page with textContent, never as HTML.
(function () {
  "use strict";
  var STATUS = {
    available: { colour: "#009E73", shape: "circle", fill: 0.9, label: "available" },
    dispatched: { colour: "#F0E442", shape: "diamond", fill: 0.95, label: "dispatched" },
    en_route: { colour: "#E69F00", shape: "triangle", fill: 0.95, label: "en route" },
    on_scene: { colour: "#D55E00", shape: "square", fill: 0.95, label: "on scene" },
    returning: { colour: "#56B4E9", shape: "circle", fill: 0.25, label: "returning" },
    out_of_service: { colour: "#7A8594", shape: "square", fill: 0.1, label: "out of service" }
  };
  var STALE = { colour: "#8A8F98", fill: 0.35 };

  // Canvas shapes: Leaflet's canvas renderer only knows circles, so teach it squares, triangles and diamonds.
  L.Canvas.include({
    _updateWbShape: function (layer) {
      if (!this._drawing || layer._empty()) { return; }
      var p = layer._point, ctx = this._ctx, r = Math.max(Math.round(layer._radius), 1), shape = layer.options.shape;
      this._layers[layer._leaflet_id] = layer;
      ctx.beginPath();
      if (shape === "square") {
        ctx.rect(p.x - r, p.y - r, 2 * r, 2 * r);
      } else if (shape === "triangle") {
        ctx.moveTo(p.x, p.y - 1.3 * r); ctx.lineTo(p.x + 1.2 * r, p.y + r); ctx.lineTo(p.x - 1.2 * r, p.y + r); ctx.closePath();
      } else if (shape === "diamond") {
        ctx.moveTo(p.x, p.y - 1.35 * r); ctx.lineTo(p.x + 1.35 * r, p.y); ctx.lineTo(p.x, p.y + 1.35 * r); ctx.lineTo(p.x - 1.35 * r, p.y); ctx.closePath();
      } else {
        ctx.arc(p.x, p.y, r, 0, Math.PI * 2, false);
      }
      this._fillStroke(ctx, layer);
    }
  });
  var ShapeMarker = L.CircleMarker.extend({
    options: { shape: "circle" },
    _updatePath: function () { this._renderer._updateWbShape(this); }
  });

  function textBox(lines) {
    var box = document.createElement("div");
    lines.forEach(function (line, i) {
      var row = document.createElement(i === 0 ? "b" : "div");
      row.textContent = line;
      box.appendChild(row);
      if (i === 0) { box.appendChild(document.createElement("br")); }
    });
    return box;
  }

  function minutesAgo(now, t) { return Math.max(0, Math.floor((now - t) / 60)); }

  function WallboardMap(map, options) {
    this.map = map;
    this.options = options;
    this.renderer = L.canvas({ padding: 0.3 });
    this.unitLayer = L.layerGroup().addTo(map);
    this.incidentLayer = L.layerGroup().addTo(map);
    this.hqLayer = L.layerGroup().addTo(map);
    this.units = {};
    this.incidents = {};
    this.now = Date.now() / 1000;
    this.updates = 0;
    var self = this;
    this.pulse = false;
    setInterval(function () { self.pulse = !self.pulse; self.restyleIncidents(); }, 800);
  }

  WallboardMap.prototype.setClock = function (now) {
    this.now = now;
    for (var id in this.units) { this.styleUnit(this.units[id]); }
    this.restyleIncidents();
  };

  WallboardMap.prototype.setReference = function (polres) {
    this.hqLayer.clearLayers();
    var self = this;
    polres.forEach(function (p) {
      var m = L.circleMarker([p.lat, p.lon], { renderer: self.renderer, radius: 6, color: "#F2F5F8", weight: 2,
        fillColor: "#0B0E13", fillOpacity: 1, interactive: true });
      var label = document.createElement("span");
      label.textContent = p.name;
      m.bindTooltip(label, { permanent: true, direction: "right", className: "wb-hq", offset: [8, 0] });
      m.addTo(self.hqLayer);
    });
  };

  WallboardMap.prototype.styleUnit = function (u) {
    var st = STATUS[u.data.status] || STATUS.available;
    var stale = u.data.at !== null && (this.now - u.data.at) > this.options.staleSeconds;
    var key = u.data.status + (stale ? ":stale" : "") + ":" + u.data.kind;
    if (key !== u.styleKey) {  // restyling redraws the canvas: only when the look changes
      u.styleKey = key;
      u.marker.options.shape = st.shape;
      u.marker.setStyle({
        radius: u.data.kind === "R4" ? 6 : 4, color: stale ? STALE.colour : st.colour, weight: 1.5,
        fillColor: stale ? STALE.colour : st.colour, fillOpacity: stale ? STALE.fill : st.fill,
        dashArray: stale ? "2 2" : null
      });
    }
    u.stale = stale;
    var lines = [u.data.callsign, u.data.kind + " · " + st.label];
    if (stale) { lines.push("last seen " + minutesAgo(this.now, u.data.at) + " min ago"); }
    u.lines = lines;
    u.tooltipText = lines.join("\n");
  };

  WallboardMap.prototype.applyUnits = function (diff) {
    var self = this;
    (diff.upsert || []).forEach(function (d) {
      var u = self.units[d.id];
      if (d.lat === null || d.lon === null) { return; }
      if (!u) {
        var marker = new ShapeMarker([d.lat, d.lon], { renderer: self.renderer, radius: 4 });
        u = self.units[d.id] = { marker: marker, data: d, lines: [] };
        // The tooltip's DOM is built only when someone hovers: building it for 5,000 units a tick is waste.
        marker.bindTooltip(function () { return textBox(u.lines); }, { direction: "top" });
        marker.addTo(self.unitLayer);
      } else {
        var ll = u.marker.getLatLng();
        if (ll.lat !== d.lat || ll.lng !== d.lon) { u.marker.setLatLng([d.lat, d.lon]); }
        u.data = d;
      }
      self.styleUnit(u);
    });
    (diff.remove || []).forEach(function (id) {
      var u = self.units[id];
      if (u) { self.unitLayer.removeLayer(u.marker); delete self.units[id]; }
    });
    this.updates += 1;
    if (this.options.autofit) { this.fit(); }
  };

  WallboardMap.prototype.incidentStyle = function (i) {
    var age = (this.now - i.data.received) / 60;
    var overdue = i.data.on_scene === null && age > this.options.targetMinutes;
    var colour = i.data.on_scene !== null ? "#56B4E9" : age > this.options.targetMinutes / 2 ? "#E69F00" : "#F0E442";
    if (overdue) { colour = "#D55E00"; }
    i.overdue = overdue;
    return { radius: overdue ? (this.pulse ? 16 : 11) : 10, color: colour, weight: overdue ? 4 : 3,
      fillColor: colour, fillOpacity: 0.15 };
  };

  WallboardMap.prototype.restyleIncidents = function () {
    for (var id in this.incidents) {
      var i = this.incidents[id];
      i.marker.setStyle(this.incidentStyle(i));
      var age = minutesAgo(this.now, i.data.received);
      var lines = [i.data.kind || "incident", "P" + i.data.priority + " · " + age + " min since call"];
      if (i.overdue) { lines.push("OVERDUE: no unit on scene"); }
      else if (i.data.on_scene !== null) { lines.push("unit on scene"); }
      i.tooltipText = lines.join("\n");
      i.marker.setTooltipContent(textBox(lines));
    }
  };

  WallboardMap.prototype.applyIncidents = function (diff) {
    var self = this;
    (diff.upsert || []).forEach(function (d) {
      var i = self.incidents[d.id];
      if (d.closed !== null || d.lat === null) {
        if (i) { self.incidentLayer.removeLayer(i.marker); delete self.incidents[d.id]; }
        return;
      }
      if (!i) {
        var marker = L.circleMarker([d.lat, d.lon], { renderer: self.renderer });
        marker.bindTooltip(document.createElement("div"), { direction: "bottom" });
        marker.addTo(self.incidentLayer);
        i = self.incidents[d.id] = { marker: marker, data: d };
      } else {
        i.marker.setLatLng([d.lat, d.lon]);
        i.data = d;
      }
    });
    this.restyleIncidents();
  };

  WallboardMap.prototype.fit = function () {
    if (this.options.bounds) { this.map.fitBounds(this.options.bounds, { padding: [10, 10] }); }
  };

  WallboardMap.prototype.state = function () {
    var out = { units: {}, incidents: {}, updates: this.updates, center: this.map.getCenter(), zoom: this.map.getZoom(),
      hq: this.hqLayer.getLayers().length };
    for (var id in this.units) {
      var u = this.units[id], ll = u.marker.getLatLng();
      out.units[id] = { lat: ll.lat, lon: ll.lng, status: u.data.status, shape: u.marker.options.shape,
        colour: u.marker.options.color, stale: u.stale, tooltip: u.tooltipText };
    }
    for (var iid in this.incidents) {
      var inc = this.incidents[iid];
      out.incidents[iid] = { overdue: inc.overdue, colour: inc.marker.options.color, tooltip: inc.tooltipText };
    }
    return out;
  };

  window.WallboardMap = WallboardMap;
})();
