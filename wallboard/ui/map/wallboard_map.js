// Live layer of the wallboard map: units and incidents drawn on a Leaflet canvas, patched in place from Python
// with JSON diffs that arrive as text through one QWebChannel subscription (WallboardMap.prototype.receive): no
// script is compiled after the page has loaded. Every string reaches the page through textContent, never as HTML.
//
// Unit and incident records arrive as arrays (compact JSON for 5,000 units). Which position holds which field is
// declared once, in Python (wallboard/ui/map/payload.py), and given to the page as options.fields.
// Incidents carry their deadlines (ageing_at, overdue_at: null once a unit is on scene); the page compares them
// with the clock and applies no rule of its own.
(function () {
  "use strict";
  var U_ID, U_CALLSIGN, U_KIND, U_STATUS, U_LAT, U_LON, U_AT;
  var I_ID, I_KIND, I_PRIORITY, I_LAT, I_LON, I_RECEIVED, I_ON_SCENE, I_CLOSED, I_AGEING_AT, I_OVERDUE_AT;

  function positions(names, wanted) {
    var out = {};
    wanted.forEach(function (name) {
      var index = names.indexOf(name);
      if (index < 0) { throw new Error("map: record field " + name + " missing"); }
      out[name] = index;
    });
    return out;
  }

  function learnFields(fields) {
    var u = positions(fields.unit, ["id", "callsign", "kind", "status", "lat", "lon", "at"]);
    U_ID = u.id; U_CALLSIGN = u.callsign; U_KIND = u.kind; U_STATUS = u.status; U_LAT = u.lat; U_LON = u.lon;
    U_AT = u.at;
    var i = positions(fields.incident, ["id", "kind", "priority", "lat", "lon", "received", "on_scene", "closed",
      "ageing_at", "overdue_at"]);
    I_ID = i.id; I_KIND = i.kind; I_PRIORITY = i.priority; I_LAT = i.lat; I_LON = i.lon; I_RECEIVED = i.received;
    I_ON_SCENE = i.on_scene; I_CLOSED = i.closed; I_AGEING_AT = i.ageing_at; I_OVERDUE_AT = i.overdue_at;
  }

  // Okabe-Ito colours (distinguishable with colour-blindness) and a distinct shape per status, so status reads
  // without colour too.
  var STATUS = {
    available: { colour: "#009E73", shape: "circle", fill: 0.9 },
    dispatched: { colour: "#F0E442", shape: "diamond", fill: 0.95 },
    en_route: { colour: "#E69F00", shape: "triangle", fill: 0.95 },
    on_scene: { colour: "#D55E00", shape: "square", fill: 0.95 },
    returning: { colour: "#56B4E9", shape: "circle", fill: 0.25 },
    out_of_service: { colour: "#7A8594", shape: "square", fill: 0.1 }
  };
  var STATUS_ORDER = ["available", "dispatched", "en_route", "on_scene", "returning", "out_of_service"];
  var STALE = { colour: "#8A8F98", fill: 0.35 };
  var RADIUS = { R2: 4, R4: 6.5 };
  var INCIDENT = { fresh: "#F0E442", ageing: "#E69F00", overdue: "#FF3B30", on_scene: "#56B4E9" };

  // Canvas shapes: Leaflet's canvas renderer only knows circles, so teach it squares, triangles and diamonds.
  function tracePath(ctx, shape, x, y, r) {
    ctx.beginPath();
    if (shape === "square") {
      ctx.rect(x - r, y - r, 2 * r, 2 * r);
    } else if (shape === "triangle") {
      ctx.moveTo(x, y - 1.3 * r); ctx.lineTo(x + 1.2 * r, y + r); ctx.lineTo(x - 1.2 * r, y + r); ctx.closePath();
    } else if (shape === "diamond") {
      ctx.moveTo(x, y - 1.35 * r); ctx.lineTo(x + 1.35 * r, y); ctx.lineTo(x, y + 1.35 * r); ctx.lineTo(x - 1.35 * r, y);
      ctx.closePath();
    } else {
      ctx.arc(x, y, r, 0, Math.PI * 2, false);
    }
  }
  L.Canvas.include({
    _updateWbShape: function (layer) {
      if (!this._drawing || layer._empty()) { return; }
      var p = layer._point, r = Math.max(layer._radius, 1);
      this._layers[layer._leaflet_id] = layer;
      tracePath(this._ctx, layer.options.shape, p.x, p.y, r);
      this._fillStroke(this._ctx, layer);
    }
  });
  // Bulk updates move and restyle markers without Leaflet's per-marker redraw bookkeeping, then ask for one full
  // repaint of the canvas: per-marker redraw requests cost ~10 us each and clip to a union of rectangles anyway.
  var baseRedraw = L.Canvas.prototype._redraw;
  L.Canvas.include({
    _wbRequestFullRedraw: function () {
      this._wbFull = true;
      this._redrawRequest = this._redrawRequest || L.Util.requestAnimFrame(this._redraw, this);
    },
    _redraw: function () {
      if (this._wbFull) { this._redrawBounds = null; this._wbFull = false; }
      baseRedraw.call(this);
    }
  });
  var ShapeMarker = L.CircleMarker.extend({
    options: { shape: "circle" },
    _updatePath: function () { this._renderer._updateWbShape(this); }
  });

  function fill(template, value) { return String(template).split("%1").join(String(value)); }
  function minutesAgo(now, t) { return Math.max(0, Math.floor((now - t) / 60)); }

  // Tooltip content as DOM built with textContent: a hostile string stays text.
  function textBox(lines) {
    var box = document.createElement("div");
    lines.forEach(function (line, i) {
      var row = document.createElement(i === 0 ? "b" : "div");
      row.textContent = line;
      box.appendChild(row);
    });
    return box;
  }

  function WallboardMap(map, options) {
    learnFields(options.fields);
    this.map = map;
    this.options = options;
    this.labels = options.labels;
    this.renderer = L.canvas({ padding: 0.3 });
    // Polres HQs on a canvas of their own above the units: a cluster of units must not hide the station.
    map.createPane("wbHq").style.zIndex = 450;
    this.hqRenderer = L.canvas({ padding: 0.3, pane: "wbHq" });
    // Incident rings on a canvas of their own under the units: the overdue pulse (every 0.8 s) then repaints a few
    // dozen rings, not the 7,000 units of a national board that shared their canvas (43 % of a core in software).
    map.createPane("wbIncidents").style.zIndex = 390;
    this.incidentRenderer = L.canvas({ padding: 0.3, pane: "wbIncidents" });
    // The incident canvas lets the pointer through (CSS) so the units above it stay hoverable; it gets the pointer
    // from the map container instead, where every move over the map bubbles.
    var incidents = this.incidentRenderer;
    L.DomEvent.on(map.getContainer(), "mousemove", function (e) { if (incidents._map) { incidents._onMouseMove(e); } });
    L.DomEvent.on(map.getContainer(), "mouseout", function (e) { if (incidents._map) { incidents._handleMouseOut(e); } });
    this.incidentLayer = L.layerGroup().addTo(map);
    this.unitLayer = L.layerGroup().addTo(map);
    this.hqLayer = L.layerGroup().addTo(map);
    this.units = {};
    this.incidents = {};
    this.now = Date.now() / 1000;
    this.updates = 0;
    this.applyMsTotal = 0;
    this.pulse = false;
    this.addLegend();
    var self = this;
    // Until someone pans or zooms, the region stays fitted when the panel changes size (layouts settle after load).
    this.userMoved = false;
    this.fitting = false;
    map.on("dragstart zoomstart", function () { if (!self.fitting) { self.userMoved = true; } });
    map.on("resize", function () { if (!self.userMoved || options.autofit) { self.fit(); } });
    this.fit();  // without animation: a zoom animation in flight would swallow the user's first setView
    function labelsForZoom() {
      L.DomUtil[map.getZoom() < options.polresLabelsMinZoom ? "addClass" : "removeClass"](map.getContainer(), "wb-far");
    }
    map.on("zoomend", labelsForZoom);
    labelsForZoom();
    // The overdue ring pulses on its own, between data ticks.
    setInterval(function () { self.pulse = !self.pulse; self.restyleIncidents(true); }, 800);
  }

  WallboardMap.prototype.setClock = function (now) {
    var changed = false;
    this.now = now;
    for (var id in this.units) { changed = this.styleUnitQuietly(this.units[id]) || changed; }
    if (changed) { this.renderer._wbRequestFullRedraw(); }
    this.restyleIncidents(false);
  };

  WallboardMap.prototype.setReference = function (reference) {
    var polres = reference.polres;
    if (reference.bounds) { this.options.bounds = reference.bounds; }
    this.hqLayer.clearLayers();
    var self = this, placed = [];
    polres.slice().sort(function (a, b) { return b.lat - a.lat; }).forEach(function (p) {
      var polda = p.kind === "polda";
      var m = L.circleMarker([p.lat, p.lon], { renderer: self.hqRenderer, radius: polda ? 7 : 6, color: "#F2F5F8",
        weight: polda ? 3 : 2.5, fillColor: polda ? "#4A5668" : "#0B0E13", fillOpacity: 1, interactive: false });
      var label = document.createElement("span");
      label.textContent = p.name;
      // Neighbouring HQs (Balikpapan and Penajam face each other across the bay) put their names on opposite sides.
      var crowded = placed.some(function (q) { return Math.abs(q.lat - p.lat) < 0.3 && Math.abs(q.lon - p.lon) < 0.5; });
      var side = crowded ? "left" : "right";
      placed.push(p);
      m.bindTooltip(label, { permanent: true, direction: side, className: polda ? "wb-hq wb-hq-polda" : "wb-hq wb-hq-polres",
        offset: [side === "left" ? -8 : 8, 0] });
      m.addTo(self.hqLayer);
    });
  };

  WallboardMap.prototype.unitLines = function (u) {
    var d = u.d, st = this.labels.status[d[U_STATUS]] || d[U_STATUS];
    var lines = [d[U_CALLSIGN], d[U_KIND] + " · " + st];
    if (u.stale) { lines.push(fill(this.labels.lastSeen, minutesAgo(this.now, d[U_AT]))); }
    return lines;
  };

  // Restyle only when something visible changed: setStyle asks the canvas for a redraw.
  // Sets the marker's style options without a redraw; true if anything visible changed.
  WallboardMap.prototype.styleUnitQuietly = function (u) {
    var d = u.d, at = d[U_AT];
    var stale = at !== null && (this.now - at) > this.options.staleSeconds;
    var key = d[U_STATUS] + "|" + d[U_KIND] + "|" + stale;
    if (stale && u.marker.isTooltipOpen()) { u.marker.getTooltip().update(); }  // "N min ago" keeps counting
    u.stale = stale;
    if (key === u.styleKey) { return false; }
    u.styleKey = key;
    var st = STATUS[d[U_STATUS]] || STATUS.available, o = u.marker.options, radius = RADIUS[d[U_KIND]] || RADIUS.R2;
    o.shape = st.shape;
    o.color = o.fillColor = stale ? STALE.colour : st.colour;
    o.weight = 1.5;
    o.fillOpacity = stale ? STALE.fill : st.fill;
    o.radius = radius;
    if (u.marker._radius !== radius) { u.marker._radius = radius; if (u.marker._map) { u.marker._project(); } }
    return true;
  };

  WallboardMap.prototype.removeUnit = function (id) {
    var u = this.units[id];
    if (u) { this.unitLayer.removeLayer(u.marker); delete this.units[id]; }
  };

  WallboardMap.prototype.applyUnits = function (diff) {
    var started = performance.now(), self = this, rows = diff.upsert || [], changed = false;
    for (var k = 0; k < rows.length; k++) {
      var d = rows[k], u = self.units[d[U_ID]];
      if (d[U_LAT] === null || d[U_LON] === null) { self.removeUnit(d[U_ID]); continue; }
      if (!u) {
        var marker = new ShapeMarker([d[U_LAT], d[U_LON]], { renderer: self.renderer, radius: RADIUS.R2 });
        u = self.units[d[U_ID]] = { marker: marker, d: d, stale: false, styleKey: null };
        // Content is built when the tooltip opens, not on every update: 5,000 DOM trees per tick would stall.
        marker.bindTooltip(self.unitTooltip(u), { direction: "top" });
        self.styleUnitQuietly(u);
        marker.addTo(self.unitLayer);
        continue;
      }
      var m = u.marker, ll = m._latlng;
      u.d = d;
      if (ll.lat !== d[U_LAT] || ll.lng !== d[U_LON]) {
        m._latlng = L.latLng(d[U_LAT], d[U_LON]);
        if (m._map) { m._project(); }
        changed = true;
      }
      changed = self.styleUnitQuietly(u) || changed;
      if (m.isTooltipOpen()) { m.getTooltip().setLatLng(m._latlng); m.getTooltip().update(); }
    }
    if (changed) { self.renderer._wbRequestFullRedraw(); }
    (diff.remove || []).forEach(function (id) { self.removeUnit(id); });
    this.updates += 1;
    if (this.options.autofit) { this.fit(); }
    this.applyMsTotal += performance.now() - started;  // read by bench/bench_map.py
  };

  WallboardMap.prototype.unitTooltip = function (u) {
    var self = this;
    return function () { return textBox(self.unitLines(u)); };
  };

  WallboardMap.prototype.incidentLines = function (i) {
    var d = i.d, age = minutesAgo(this.now, d[I_RECEIVED]);
    var lines = [d[I_KIND] || this.labels.incident, "P" + d[I_PRIORITY] + " · " + fill(this.labels.sinceCall, age)];
    if (i.overdue) { lines.push(this.labels.overdueLong); }
    else if (d[I_ON_SCENE] !== null) { lines.push(this.labels.onScene); }
    return lines;
  };

  // Colour by the incident's deadlines: fresh, past half the target, overdue (pulsing, labelled), unit on scene.
  WallboardMap.prototype.incidentStyle = function (i) {
    var d = i.d, now = this.now;
    var onScene = d[I_ON_SCENE] !== null;
    var overdue = d[I_OVERDUE_AT] !== null && now > d[I_OVERDUE_AT];
    var ageing = d[I_AGEING_AT] !== null && now > d[I_AGEING_AT];
    var colour = onScene ? INCIDENT.on_scene : overdue ? INCIDENT.overdue : ageing ? INCIDENT.ageing : INCIDENT.fresh;
    i.overdue = overdue;
    return { radius: overdue ? (this.pulse ? 17 : 12) : 10, color: colour, weight: overdue ? 4 : 2.5,
      fillColor: colour, fillOpacity: overdue ? 0.25 : 0.12 };
  };

  WallboardMap.prototype.restyleIncidents = function (pulseOnly) {
    for (var id in this.incidents) {
      var i = this.incidents[id];
      if (pulseOnly && !i.overdue) { continue; }
      i.marker.setStyle(this.incidentStyle(i));
      if (i.overdue) {
        var text = fill(this.labels.overdueShort, minutesAgo(this.now, i.d[I_RECEIVED]));
        if (!i.label) {
          i.label = document.createElement("span");
          i.marker.unbindTooltip();
          i.marker.bindTooltip(i.label, { permanent: true, direction: "right", className: "wb-overdue", offset: [14, 0] });
        }
        i.label.textContent = text;
      } else if (i.label) {
        i.label = null;
        i.marker.unbindTooltip();
        i.marker.bindTooltip(this.incidentTooltip(i), { direction: "bottom" });
      }
    }
  };

  WallboardMap.prototype.incidentTooltip = function (i) {
    var self = this;
    return function () { return textBox(self.incidentLines(i)); };
  };

  WallboardMap.prototype.applyIncidents = function (diff) {
    var self = this;
    (diff.upsert || []).forEach(function (d) {
      var i = self.incidents[d[I_ID]];
      if (d[I_CLOSED] !== null || d[I_LAT] === null || d[I_LON] === null) {
        if (i) { self.incidentLayer.removeLayer(i.marker); delete self.incidents[d[I_ID]]; }
        return;
      }
      if (!i) {
        var marker = L.circleMarker([d[I_LAT], d[I_LON]], { renderer: self.incidentRenderer });
        i = self.incidents[d[I_ID]] = { marker: marker, d: d, overdue: false, label: null };
        marker.bindTooltip(self.incidentTooltip(i), { direction: "bottom" });
        marker.addTo(self.incidentLayer);
      } else {
        i.marker.setLatLng([d[I_LAT], d[I_LON]]);
        i.d = d;
      }
    });
    (diff.remove || []).forEach(function (id) {
      var i = self.incidents[id];
      if (i) { self.incidentLayer.removeLayer(i.marker); delete self.incidents[id]; }
    });
    this.restyleIncidents(false);
  };

  WallboardMap.prototype.fit = function () {
    if (!this.options.bounds) { return; }
    this.fitting = true;
    try { this.map.fitBounds(this.options.bounds, { padding: [10, 10], animate: false }); } finally { this.fitting = false; }
  };

  // The legend: every status with its shape and colour, R2 vs R4 size, stale grey, incident rings.
  WallboardMap.prototype.addLegend = function () {
    var labels = this.labels;
    var legend = L.control({ position: "bottomleft" });
    function swatch(shape, colour, fillOpacity, r, ring, stroke) {
      var c = document.createElement("canvas"), size = 22, ctx;
      c.width = size; c.height = size;
      ctx = c.getContext("2d");
      tracePath(ctx, shape, size / 2, size / 2, r);
      ctx.globalAlpha = ring ? 0.15 : fillOpacity;
      ctx.fillStyle = colour; ctx.fill();
      ctx.globalAlpha = 1; ctx.lineWidth = ring ? 3 : 1.5; ctx.strokeStyle = stroke || colour; ctx.stroke();
      return c;
    }
    function row(box, canvas, text) {
      var line = document.createElement("div"), span = document.createElement("span");
      line.className = "wb-legend-row";
      span.textContent = text;
      line.appendChild(canvas); line.appendChild(span);
      box.appendChild(line);
    }
    legend.onAdd = function () {
      var box = L.DomUtil.create("div", "wb-legend"), title = document.createElement("div");
      title.className = "wb-legend-title";
      title.textContent = labels.units;
      box.appendChild(title);
      STATUS_ORDER.forEach(function (s) { row(box, swatch(STATUS[s].shape, STATUS[s].colour, STATUS[s].fill, 5), labels.status[s]); });
      row(box, swatch("circle", "#C8D0DA", 0.9, RADIUS.R2), labels.r2);
      row(box, swatch("circle", "#C8D0DA", 0.9, RADIUS.R4), labels.r4);
      row(box, swatch("circle", STALE.colour, STALE.fill, 5), labels.stale);
      var incidents = document.createElement("div");
      incidents.className = "wb-legend-title";
      incidents.textContent = labels.incidents;
      box.appendChild(incidents);
      row(box, swatch("circle", INCIDENT.fresh, 0, 8, true), labels.incidentFresh);
      row(box, swatch("circle", INCIDENT.ageing, 0, 8, true), labels.incidentAgeing);
      row(box, swatch("circle", INCIDENT.overdue, 0, 8, true), labels.incidentOverdue);
      row(box, swatch("circle", INCIDENT.on_scene, 0, 8, true), labels.onScene);
      row(box, swatch("circle", "#0B0E13", 1, 5, false, "#F2F5F8"), labels.hq);
      return box;
    };
    legend.addTo(this.map);
    this.legend = legend;
  };

  WallboardMap.prototype.state = function () {
    var out = { units: {}, incidents: {}, updates: this.updates, center: this.map.getCenter(), zoom: this.map.getZoom(),
      hq: this.hqLayer.getLayers().map(function (m) { return m.getTooltip().getContent().textContent; }),
      legend: this.legend.getContainer().textContent };
    for (var id in this.units) {
      var u = this.units[id], ll = u.marker.getLatLng(), box = textBox(this.unitLines(u));
      out.units[id] = { lat: ll.lat, lon: ll.lng, status: u.d[U_STATUS], kind: u.d[U_KIND], shape: u.marker.options.shape,
        colour: u.marker.options.color, radius: u.marker.getRadius(), stale: u.stale,
        tooltip: this.unitLines(u).join("\n"), tooltipHtml: box.innerHTML };
    }
    for (var iid in this.incidents) {
      var inc = this.incidents[iid];
      out.incidents[iid] = { overdue: inc.overdue, colour: inc.marker.options.color,
        tooltip: this.incidentLines(inc).join("\n"), label: inc.label ? inc.label.textContent : null };
    }
    return out;
  };

  // One message from Python (wallboard/ui/map/channel.py): JSON text with an "op". Queries answer through the
  // bridge's answer slot, in order with the updates sent before them.
  WallboardMap.prototype.receive = function (text, bridge) {
    var m = JSON.parse(text);
    if (m.op === "tick") {
      this.setClock(m.clock);
      if (m.units) { this.applyUnits(m.units); }
      if (m.incidents) { this.applyIncidents(m.incidents); }
    } else if (m.op === "reference") {
      this.setReference(m);
    } else if (m.op === "fit") {
      this.fit();
    } else if (m.op === "query") {
      var value;
      try { value = this.query(m.what, m.args); } catch (e) { console.error("map query " + m.what + ": " + e); value = null; }
      bridge.answer(m.id, JSON.stringify(value === undefined ? null : value));
    }
  };

  WallboardMap.prototype.query = function (what) {
    if (what === "state") { return this.state(); }
    if (what === "applyMsTotal") { return this.applyMsTotal; }
    throw new Error("unknown query");
  };

  // Subscribe the live layer to the channel once; tell Python it may start sending.
  WallboardMap.connect = function (wb) {
    /* global QWebChannel, qt */
    new QWebChannel(qt.webChannelTransport, function (channel) {
      var bridge = channel.objects.wallboardBridge;
      bridge.message.connect(function (text) {
        try { wb.receive(text, bridge); } catch (e) { console.error("map update: " + e + "\n" + (e.stack || "")); }
      });
      bridge.ready();
    });
  };

  window.WallboardMap = WallboardMap;
})();
