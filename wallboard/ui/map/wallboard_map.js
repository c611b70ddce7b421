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
  var U_ID, U_CALLSIGN, U_KIND, U_STATUS, U_POLRES, U_LAT, U_LON, U_AT;
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
    var u = positions(fields.unit, ["id", "callsign", "kind", "status", "polres", "lat", "lon", "at"]);
    U_ID = u.id; U_CALLSIGN = u.callsign; U_KIND = u.kind; U_STATUS = u.status; U_POLRES = u.polres; U_LAT = u.lat;
    U_LON = u.lon;
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
  // The national map's provinces, by their Polda's response status (the gauges' colours, dimmed to a fill).
  var REGION = { ok: "#009E73", watch: "#E69F00", bad: "#D55E00", none: "#4A5668" };
  var REGION_ORDER = ["ok", "watch", "bad", "none"];
  var SIDES = ["right", "left", "top", "bottom"];

  // Where a tooltip of size w x h sits for a side (Leaflet's own rule for a circle marker: no anchor, the offset
  // moves it gap px away from the point, and leaflet.css adds a 6 px margin on that side), in container pixels.
  var TOOLTIP_MARGIN = 6;
  function placeRect(p, side, w, h, gap) {
    var x, y;
    gap += TOOLTIP_MARGIN;
    if (side === "right") { x = p.x + gap; y = p.y - h / 2; }
    else if (side === "left") { x = p.x - gap - w; y = p.y - h / 2; }
    else if (side === "top") { x = p.x - w / 2; y = p.y - gap - h; }
    else { x = p.x - w / 2; y = p.y + gap; }
    return { l: x, t: y, r: x + w, b: y + h };
  }
  function overlaps(a, b) { return a.l < b.r + 1 && b.l < a.r + 1 && a.t < b.b + 1 && b.t < a.b + 1; }
  function sideOffset(side, gap) {
    return side === "right" ? [gap, 0] : side === "left" ? [-gap, 0] : side === "top" ? [0, -gap] : [0, gap];
  }

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
      // A canvas whose layer is off the map (units hidden at national zoom) has no context to paint; it draws
      // everything afresh when its layer comes back.
      if (!this._map || !this._ctx) { return; }
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
  // Time to an incident's deadline as core/risk.py countdown_text has it: "9:59" counting down (0:00 exactly at the
  // deadline), "+0:01" counting up past it.
  function countdownText(deadline, now) {
    var over = now > deadline, s = over ? Math.floor(now - deadline) : Math.ceil(deadline - now);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var body = (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (sec < 10 ? "0" : "") + sec;
    return over ? "+" + body : body;
  }

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
    // A national map's ~500 Polres HQs: shown with their names once zoomed in to a province, not as a smear of dots.
    this.polresHqLayer = L.layerGroup().addTo(map);
    this.units = {};
    this.incidents = {};
    this.national = !!options.national;
    this.labelEntries = [];  // every permanent label: HQ names, Polda figures, overdue boxes (see declutter)
    this.poldaLabels = {};
    this.regions = {};
    this.provinces = {};  // Polda id -> its province polygons (national map)
    var provincePolda = options.provincePolda || {}, provinces = this.provinces;
    map.eachLayer(function (layer) {
      var props = layer.feature && layer.feature.properties, polda = props && provincePolda[String(props.kode)];
      if (polda && layer.setStyle) { (provinces[polda] = provinces[polda] || []).push(layer); }
    });
    this.now = Date.now() / 1000;
    this.updates = 0;
    this.applyMsTotal = 0;
    this.pulse = false;
    this.addLegend();
    L.control.scale({ metric: true, imperial: false, position: "bottomleft" }).addTo(map);  // metric only
    if (!options.controls && map.zoomControl) { map.zoomControl.remove(); }  // a kiosk: nobody to zoom
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
    map.on("zoomend", function () { labelsForZoom(); self.layersForZoom(); self.declutter(); });
    map.on("resize", function () { self.declutter(); });
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
    if (this.labelsDirty) { this.declutter(); }
  };

  WallboardMap.prototype.setReference = function (reference) {
    var polres = reference.polres;
    if (reference.bounds) { this.options.bounds = reference.bounds; }
    this.hqLayer.clearLayers();
    this.polresHqLayer.clearLayers();
    this.labelEntries = this.labelEntries.filter(function (e) { return e.kind === "overdue"; });
    this.poldaLabels = {};
    this.polresPolda = {};
    var self = this, placed = [];
    polres.forEach(function (p) { if (p.kind === "polres") { self.polresPolda[p.id] = p.polda; } });
    polres.slice().sort(function (a, b) { return b.lat - a.lat; }).forEach(function (p) {
      var polda = p.kind === "polda";
      var m = L.circleMarker([p.lat, p.lon], { renderer: self.hqRenderer, radius: polda ? 7 : 6, color: "#F2F5F8",
        weight: polda ? 3 : 2.5, fillColor: polda ? "#4A5668" : "#0B0E13", fillOpacity: 1, interactive: false });
      var label = document.createElement("span");
      label.textContent = p.name;
      if (polda && self.national) { label.className = "wb-region-label"; self.poldaLabels[p.id] = label; }
      // Neighbouring HQs (Balikpapan and Penajam face each other across the bay) put their names on opposite sides.
      var crowded = placed.some(function (q) { return Math.abs(q.lat - p.lat) < 0.3 && Math.abs(q.lon - p.lon) < 0.5; });
      var side = crowded ? "left" : "right";
      placed.push(p);
      m.bindTooltip(label, { permanent: true, direction: side, className: polda ? "wb-hq wb-hq-polda" : "wb-hq wb-hq-polres",
        offset: [side === "left" ? -8 : 8, 0] });
      m.addTo(self.national && !polda ? self.polresHqLayer : self.hqLayer);
      self.labelEntries.push({ tooltip: m.getTooltip(), latlng: m.getLatLng(), kind: polda ? "polda" : "polres",
        side: side, gap: 8, priority: polda ? 0 : 1 });
    });
    this.showRegions();
    this.layersForZoom();
    this.declutter();
  };

  // National map: each Polda's province coloured by its response status, its label with its figures (overdue
  // incidents counted here instead of one box each; units counted while they are too many to draw).
  WallboardMap.prototype.applyRegions = function (rows) {
    var self = this;
    this.regions = {};
    rows.forEach(function (r) { self.regions[r.id] = r; });
    this.showRegions();
    this.declutter();
  };

  WallboardMap.prototype.unitCounts = function () {
    var counts = {}, polresPolda = this.polresPolda || {};
    for (var id in this.units) {
      var polda = polresPolda[this.units[id].d[U_POLRES]];
      if (polda) { counts[polda] = (counts[polda] || 0) + 1; }
    }
    return counts;
  };

  WallboardMap.prototype.showRegions = function () {
    if (!this.national) { return; }
    var labels = this.labels, counts = this.unitsShown() ? {} : this.unitCounts();
    for (var polda in this.provinces) {
      var r = this.regions[polda], colour = REGION[r ? r.status : "none"] || REGION.none;
      this.provinces[polda].forEach(function (layer) {
        layer.setStyle({ fillColor: colour, fillOpacity: r && r.status !== "none" ? 0.42 : 1.0,
          color: "#6F7E93", weight: 1 });
      });
    }
    for (var id in this.poldaLabels) {
      var row = this.regions[id], el = this.poldaLabels[id], lines = [];
      var name = row ? row.symbol + " " + row.name : el.textContent.split("\n")[0];
      var figures = [];
      if (row) {
        figures.push(row.p90 === null ? labels.regionStatus.none : fill(labels.p90Short, row.p90));
        if (row.overdue) { figures.push(fill(labels.overdueCount, row.overdue)); }
      }
      if (counts[id]) { figures.push(fill(labels.unitsCount, counts[id])); }
      lines.push(name);
      if (figures.length) { lines.push(figures.join(" · ")); }
      var text = lines.join("\n");
      if (el.textContent !== text) { el.textContent = text; this.labelsDirty = true; }
      var cls = "wb-region-label" + (row && row.overdue ? " wb-region-overdue" : "");
      if (el.className !== cls) { el.className = cls; }
    }
  };

  // Far out on a national map, thousands of units would be a smear and every overdue ring a red blot: below
  // options.unitsMinZoom the Polda labels count them instead.
  WallboardMap.prototype.unitsShown = function () {
    return !this.national || this.map.getZoom() >= (this.options.unitsMinZoom || 0);
  };

  WallboardMap.prototype.layersForZoom = function () {
    var show = this.unitsShown(), map = this.map;
    var names = !this.national || map.getZoom() >= (this.options.polresLabelsMinZoom || 0);
    [[this.unitLayer, show], [this.incidentLayer, show], [this.polresHqLayer, names]].forEach(function (pair) {
      var layer = pair[0];
      if (pair[1] && !map.hasLayer(layer)) { map.addLayer(layer); }
      if (!pair[1] && map.hasLayer(layer)) { map.removeLayer(layer); }
    });
    this.showRegions();
  };

  // No two labels overlap: names first (Polda, then Polres), then overdue boxes, each on the first side of its
  // point (right, left, above, below) where it touches no label already placed; a label with no free side is
  // hidden (an overdue box never covers a name: its ring still pulses). Sizes are read once, positions computed.
  WallboardMap.prototype.declutter = function () {
    var map = this.map, placed = [], entries = this.labelEntries.slice();
    this.labelsDirty = false;
    // The legend and the controls are obstacles too: a label under them could not be read.
    var origin = map.getContainer().getBoundingClientRect();
    map.getContainer().querySelectorAll(".leaflet-control").forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (r.width > 0) { placed.push({ l: r.left - origin.left, t: r.top - origin.top, r: r.right - origin.left, b: r.bottom - origin.top }); }
    });
    entries.sort(function (a, b) { return a.priority - b.priority; });
    var sized = entries.map(function (e) {
      var el = e.tooltip && e.tooltip.getElement();
      var shown = !!(el && el.offsetParent !== null && e.tooltip._map);
      return { e: e, el: el, shown: shown, w: shown ? el.offsetWidth : 0, h: shown ? el.offsetHeight : 0 };
    });
    sized.forEach(function (s) {
      if (!s.shown) { return; }
      var p = map.latLngToContainerPoint(s.e.latlng), chosen = null, order = [s.e.side].concat(SIDES);
      for (var k = 0; k < order.length && chosen === null; k++) {
        var rect = placeRect(p, order[k], s.w, s.h, s.e.gap), free = true;
        for (var j = 0; j < placed.length && free; j++) { free = !overlaps(rect, placed[j]); }
        if (free) { chosen = order[k]; placed.push(rect); }
      }
      var t = s.e.tooltip;
      if (chosen !== null && t.options.direction !== chosen) {
        t.options.direction = chosen;
        t.options.offset = sideOffset(chosen, s.e.gap);
        t.update();
      }
      if (chosen !== null) {
        // Put it exactly where it was measured (Leaflet placed it with whatever size it had then; the text may have
        // changed since): the box's corner before leaflet.css's margin on the label's side, as a layer point.
        var box = placed[placed.length - 1], m = sideOffset(chosen, TOOLTIP_MARGIN);
        L.DomUtil.setPosition(s.el, map.containerPointToLayerPoint(L.point(box.l - m[0], box.t - m[1])).round());
      }
      s.el.style.visibility = chosen === null ? "hidden" : "";
      s.e.hidden = chosen === null;
    });
  };

  // Every label the eye can see, with its box on screen (tests: no two overlap).
  WallboardMap.prototype.visibleLabels = function () {
    var out = [];
    this.labelEntries.forEach(function (e) {
      var el = e.tooltip && e.tooltip.getElement();
      if (!el || el.offsetParent === null || el.style.visibility === "hidden" || !e.tooltip._map) { return; }
      var r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) { return; }
      out.push({ kind: e.kind, text: el.textContent, left: r.left, top: r.top, right: r.right, bottom: r.bottom });
    });
    return out;
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
    if (this.national && !this.unitsShown()) {  // the Polda labels count them
      this.showRegions();
      if (this.labelsDirty) { this.declutter(); }
    }
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
    if (d[I_OVERDUE_AT] !== null) { lines.push(fill(i.overdue ? this.labels.overdueBy : this.labels.timeLeft,
      countdownText(d[I_OVERDUE_AT], this.now))); }
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
      // Past half the target the label counts down to the deadline (amber), past it up from it (red). A national
      // map counts overdue incidents in its Polda labels instead of boxing each one.
      var deadline = i.d[I_OVERDUE_AT];
      var ageing = deadline !== null && i.d[I_AGEING_AT] !== null && this.now > i.d[I_AGEING_AT];
      if ((i.overdue || ageing) && !this.national) {
        var cls = i.overdue ? "wb-overdue" : "wb-countdown";
        var text = fill(i.overdue ? this.labels.overdueBy : this.labels.timeLeft, countdownText(deadline, this.now));
        if (!i.label || i.labelClass !== cls) {
          if (i.label) { this.dropLabel(i); }
          i.label = document.createElement("span");
          i.labelClass = cls;
          i.marker.unbindTooltip();
          i.marker.bindTooltip(i.label, { permanent: true, direction: "right", className: cls, offset: [14, 0] });
          i.entry = { tooltip: i.marker.getTooltip(), latlng: i.marker.getLatLng(), kind: "overdue", side: "right",
            gap: 14, priority: 2 };
          this.labelEntries.push(i.entry);
          this.labelsDirty = true;
        }
        if (i.label.textContent !== text) { i.label.textContent = text; this.labelsDirty = true; }
      } else if (i.label) {
        this.dropLabel(i);
        i.marker.unbindTooltip();
        i.marker.bindTooltip(this.incidentTooltip(i), { direction: "bottom" });
      }
    }
  };

  WallboardMap.prototype.dropLabel = function (i) {
    var entry = i.entry;
    this.labelEntries = this.labelEntries.filter(function (e) { return e !== entry; });
    i.label = null;
    i.entry = null;
    this.labelsDirty = true;
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
        if (i) { if (i.entry) { self.dropLabel(i); } self.incidentLayer.removeLayer(i.marker); delete self.incidents[d[I_ID]]; }
        return;
      }
      if (!i) {
        var marker = L.circleMarker([d[I_LAT], d[I_LON]], { renderer: self.incidentRenderer });
        i = self.incidents[d[I_ID]] = { marker: marker, d: d, overdue: false, label: null };
        marker.bindTooltip(self.incidentTooltip(i), { direction: "bottom" });
        marker.addTo(self.incidentLayer);
      } else {
        i.marker.setLatLng([d[I_LAT], d[I_LON]]);
        if (i.entry) { i.entry.latlng = i.marker.getLatLng(); self.labelsDirty = true; }
        i.d = d;
      }
    });
    (diff.remove || []).forEach(function (id) {
      var i = self.incidents[id];
      if (i) { if (i.entry) { self.dropLabel(i); } self.incidentLayer.removeLayer(i.marker); delete self.incidents[id]; }
    });
    this.restyleIncidents(false);
    if (this.labelsDirty) { this.declutter(); }
  };

  WallboardMap.prototype.fit = function () {
    if (!this.options.bounds) { return; }
    this.fitting = true;
    try { this.map.fitBounds(this.options.bounds, { padding: [10, 10], animate: false }); } finally { this.fitting = false; }
  };

  // The legend: every status with its shape and colour, R2 vs R4 size, stale grey, incident rings (and the national
  // map's province colours). Compact, in the corner no control uses (top right), folded by a click on its title.
  WallboardMap.prototype.addLegend = function () {
    var labels = this.labels, self = this;
    var legend = L.control({ position: "topright" });
    function swatch(shape, colour, fillOpacity, r, ring, stroke) {
      var c = document.createElement("canvas"), size = 16, ctx;
      c.width = size; c.height = size;
      ctx = c.getContext("2d");
      tracePath(ctx, shape, size / 2, size / 2, Math.min(r, 6.5));
      ctx.globalAlpha = ring ? 0.15 : fillOpacity;
      ctx.fillStyle = colour; ctx.fill();
      ctx.globalAlpha = 1; ctx.lineWidth = ring ? 2.5 : 1.5; ctx.strokeStyle = stroke || colour; ctx.stroke();
      return c;
    }
    function row(box, canvas, text) {
      var line = document.createElement("div"), span = document.createElement("span");
      line.className = "wb-legend-row";
      span.textContent = text;
      line.appendChild(canvas); line.appendChild(span);
      box.appendChild(line);
    }
    function title(box, text) {
      var t = document.createElement("div");
      t.className = "wb-legend-title";
      t.textContent = text;
      box.appendChild(t);
    }
    legend.onAdd = function () {
      var box = L.DomUtil.create("div", "wb-legend"), head = document.createElement("div");
      var body = document.createElement("div");
      head.className = "wb-legend-head";
      head.textContent = labels.legend;
      body.className = "wb-legend-body";
      box.appendChild(head); box.appendChild(body);
      if (self.national) {
        var regions = document.createElement("div");
        regions.className = "wb-legend-col";
        title(regions, labels.regions);
        REGION_ORDER.forEach(function (st) { row(regions, swatch("square", REGION[st], 0.6, 6), labels.regionStatus[st]); });
        body.appendChild(regions);
      }
      var units = document.createElement("div"), incidents = document.createElement("div");
      units.className = incidents.className = "wb-legend-col";
      title(units, labels.units);
      STATUS_ORDER.forEach(function (s) { row(units, swatch(STATUS[s].shape, STATUS[s].colour, STATUS[s].fill, 5), labels.status[s]); });
      row(units, swatch("circle", "#C8D0DA", 0.9, RADIUS.R2), labels.r2);
      row(units, swatch("circle", "#C8D0DA", 0.9, RADIUS.R4), labels.r4);
      row(units, swatch("circle", STALE.colour, STALE.fill, 5), labels.stale);
      title(incidents, labels.incidents);
      row(incidents, swatch("circle", INCIDENT.fresh, 0, 6, true), labels.incidentFresh);
      row(incidents, swatch("circle", INCIDENT.ageing, 0, 6, true), labels.incidentAgeing);
      row(incidents, swatch("circle", INCIDENT.overdue, 0, 6, true), labels.incidentOverdue);
      row(incidents, swatch("circle", INCIDENT.on_scene, 0, 6, true), labels.onScene);
      row(incidents, swatch("circle", "#0B0E13", 1, 4, false, "#F2F5F8"), labels.hq);
      body.appendChild(units); body.appendChild(incidents);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.on(head, "click", function () { self.foldLegend(!L.DomUtil.hasClass(box, "wb-legend-collapsed")); });
      return box;
    };
    legend.addTo(this.map);
    this.legend = legend;
    // Folded from the start on a small map, and on the national map, whose labels carry their status as a symbol
    // and a word (its units are counted, not drawn, until zoomed in).
    if (this.map.getSize().y < 420 || this.national) { this.foldLegend(true); }
  };

  WallboardMap.prototype.foldLegend = function (folded) {
    var box = this.legend.getContainer();
    L.DomUtil[folded ? "addClass" : "removeClass"](box, "wb-legend-collapsed");
    if (this.labelEntries) { this.declutter(); }
  };

  // The boxes of the legend and of the controls (tests: the legend never covers a control).
  WallboardMap.prototype.layoutBoxes = function () {
    function box(el) { if (!el) { return null; } var r = el.getBoundingClientRect(); return { left: r.left, top: r.top, right: r.right, bottom: r.bottom }; }
    var container = this.map.getContainer(), controls = [];
    container.querySelectorAll(".leaflet-control").forEach(function (el) {
      if (!el.classList.contains("wb-legend")) { controls.push(box(el)); }
    });
    return { map: box(container), legend: box(this.legend.getContainer()), controls: controls,
      legendCollapsed: this.legend.getContainer().classList.contains("wb-legend-collapsed") };
  };

  WallboardMap.prototype.state = function () {
    var out = { units: {}, incidents: {}, updates: this.updates, center: this.map.getCenter(), zoom: this.map.getZoom(),
      hq: this.hqLayer.getLayers().concat(this.polresHqLayer.getLayers()).map(function (m) {
        return m.getTooltip().getContent().textContent; }),
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
    } else if (m.op === "regions") {
      this.applyRegions(m.rows);
    } else if (m.op === "view") {
      this.fitting = true;
      try { this.map.setView(m.center, m.zoom, { animate: false }); } finally { this.fitting = false; }
    } else if (m.op === "query") {
      var value;
      try { value = this.query(m.what, m.args); } catch (e) { console.error("map query " + m.what + ": " + e); value = null; }
      bridge.answer(m.id, JSON.stringify(value === undefined ? null : value));
    }
  };

  WallboardMap.prototype.query = function (what) {
    if (what === "state") { return this.state(); }
    if (what === "applyMsTotal") { return this.applyMsTotal; }
    if (what === "national") {
      var fills = {}, labels = {}, container = this.map.getContainer(), overdueBoxes = 0;
      for (var polda in this.provinces) { fills[polda] = this.provinces[polda][0].options.fillColor; }
      for (var id in this.poldaLabels) { labels[id] = this.poldaLabels[id].textContent; }
      for (var iid in this.incidents) { if (this.incidents[iid].label) { overdueBoxes += 1; } }
      return { unitsShown: this.unitsShown() && this.map.hasLayer(this.unitLayer), provinceFills: fills,
        poldaLabels: labels, overdueBoxes: overdueBoxes,
        zoomControl: !!container.querySelector(".leaflet-control-zoom"),
        scale: Array.prototype.map.call(container.querySelectorAll(".leaflet-control-scale-line"),
          function (el) { return el.textContent; }) };
    }
    if (what === "labels") {
      if (this.labelsDirty) { this.declutter(); }
      return { zoom: this.map.getZoom(), labels: this.visibleLabels(), layout: this.layoutBoxes() };
    }
    throw new Error("unknown query");
  };

  // Subscribe the live layer to the channel once; tell Python it may start sending.
  WallboardMap.connect = function (wb) {
    /* global QWebChannel, qt */
    if (typeof QWebChannel === "undefined" || typeof qt === "undefined") { return; }  // a page without our view
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
