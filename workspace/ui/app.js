// rwkit workspace page: plain DOM and SVG, no library, nothing fetched
// from outside the workspace. Every value from the server is set as text,
// never as HTML.
"use strict";

(function () {
  var errorsEl = document.getElementById("page-errors");
  function recordError(msg) {
    errorsEl.textContent += msg + "\n";
  }
  window.addEventListener("error", function (e) {
    recordError("error: " + e.message + " (" + (e.filename || "") + ":" + (e.lineno || 0) + ")");
  });
  window.addEventListener("unhandledrejection", function (e) {
    recordError("unhandled rejection: " + (e.reason && e.reason.message ? e.reason.message : String(e.reason)));
  });

  var REFRESH_MS = 3000;
  var MAX_ROWS = 100; // collision rows drawn at once
  var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
  var main = document.getElementById("main");
  var statusEl = document.getElementById("status");

  // el builds an element: el("a", {href: "/"}, "text", child, ...).
  function el(tag, attrs) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (attrs[k] === undefined || attrs[k] === null || attrs[k] === false) continue;
      if (k === "text") e.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) append(e, arguments[i]);
    return e;
  }
  function append(e, c) {
    if (c === undefined || c === null || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { append(e, x); }); return; }
    e.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  var SVGNS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    return e;
  }

  function getJSON(url) {
    return fetch(url, {headers: {Accept: "application/json"}}).then(function (r) {
      if (!r.ok) {
        return r.text().then(function (t) {
          var err = new Error(url + ": " + r.status + " " + t.trim());
          err.status = r.status;
          throw err;
        });
      }
      return r.json();
    });
  }

  // loadFailed shows a failed refresh. Anything but the server being away
  // (an HTTP error, a script error while drawing) is the page's own
  // mistake, so it is recorded too.
  var NETWORK_ERRORS = ["Failed to fetch", "NetworkError when attempting to fetch resource.", "Load failed"];
  function loadFailed(err) {
    statusEl.textContent = "refresh failed: " + err.message;
    if (err.status || NETWORK_ERRORS.indexOf(err.message) < 0) recordError(String(err.stack || err));
  }

  function num(v) {
    if (typeof v !== "number") v = Number(v);
    if (!isFinite(v)) return String(v);
    return Math.round(v) === v ? v.toLocaleString("en-US") : v.toPrecision(6).replace(/\.?0+$/, "");
  }
  function time(s) {
    var d = new Date(s);
    if (isNaN(d.getTime()) || d.getTime() <= 0) return "never";
    return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  }
  // when is a time element: the time of day (UTC) for today's, the date
  // too for older ones; the full time in its title.
  function when(s) {
    var full = time(s);
    if (full === "never") return el("td", {}, full);
    var today = new Date().toISOString().slice(0, 10);
    return el("td", {class: "when"}, el("time", {datetime: new Date(s).toISOString(), title: full},
      full.slice(0, 10) === today ? full.slice(11) : full));
  }
  function labelsText(m) {
    var names = Object.keys(m || {}).sort();
    var name = m && m.__name__ ? m.__name__ : "";
    var rest = names.filter(function (n) { return n !== "__name__"; }).map(function (n) {
      return n + '="' + m[n] + '"';
    });
    return name + (rest.length || !name ? "{" + rest.join(", ") + "}" : "");
  }
  function writerIdentity(w) {
    if (!w) return "(unknown: forgotten or before the workspace started)";
    var names = Object.keys(w.labels || {}).sort();
    return names.length ? names.map(function (n) { return n + '="' + w.labels[n] + '"'; }).join(", ") : "(no identity labels)";
  }
  function writerCell(w) {
    if (!w) return el("td", {}, writerIdentity(w));
    return el("td", {class: "writer"},
      el("span", {class: "ident"}, writerIdentity(w)),
      el("span", {class: "ua"}, "User-Agent: " + (w.user_agent || "(none)")),
      el("span", {class: "addr"}, "from " + (w.remote_addr || "?")));
  }
  function hintID(reason) { return "hint-" + reason.replace(/[^A-Za-z0-9_-]/g, "_"); }
  // reasonLink links a reason to its hint on the page, when there is one.
  function reasonLink(reason, hints) {
    return hints[reason] ? el("a", {href: "#" + hintID(reason)}, reason) : el("span", {}, reason);
  }

  // table builds a table with a caption, column heads and rows of cells.
  function table(caption, heads, rows, opts) {
    opts = opts || {};
    var t = el("table", {id: opts.id},
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, heads.map(function (h, i) {
        return el("th", {scope: "col", class: opts.numeric && opts.numeric.indexOf(i) >= 0 ? "num" : null}, h);
      }))));
    var body = el("tbody");
    rows.forEach(function (r) { body.appendChild(r); });
    if (!rows.length) body.appendChild(el("tr", {}, el("td", {colspan: heads.length, class: "empty"}, opts.empty || "None.")));
    t.appendChild(body);
    // A wide table scrolls inside its region at a phone's width; the
    // region takes focus so the keyboard can scroll it.
    return el("div", {class: "scroll", role: "region", "aria-label": caption, tabindex: "0"}, t);
  }
  function row(cells, opts) {
    return el("tr", opts || {}, cells.map(function (c) {
      if (c && c.nodeType) return c.tagName === "TD" || c.tagName === "TH" ? c : el("td", {}, c);
      return typeof c === "number" ? el("td", {class: "num"}, num(c)) : el("td", {}, c);
    }));
  }

  // lineChart draws series [{name, points: [[ms, value], ...]}] as SVG
  // lines, with a legend whose entries may be links.
  function lineChart(title, series, opts) {
    opts = opts || {};
    var W = 720, H = 240, L = 56, R = 12, T = 12, B = 28;
    var xs = [], ys = [0];
    series.forEach(function (s) {
      s.points.forEach(function (p) { if (isFinite(p[1])) { xs.push(p[0]); ys.push(p[1]); } });
    });
    var wrap = el("figure", {class: "chart"});
    if (!xs.length) {
      wrap.appendChild(el("p", {class: "empty"}, opts.empty || "No data yet."));
      return wrap;
    }
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    if (x1 === x0) { x0 -= 1000; x1 += 1000; }
    var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    if (y1 === y0) y1 = y0 + 1;
    function X(v) { return L + (v - x0) / (x1 - x0) * (W - L - R); }
    function Y(v) { return T + (1 - (v - y0) / (y1 - y0)) * (H - T - B); }
    var s = svg("svg", {viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": title});
    s.appendChild(svg("title", {text: title}));
    [y0, (y0 + y1) / 2, y1].forEach(function (v) {
      s.appendChild(svg("line", {x1: L, x2: W - R, y1: Y(v), y2: Y(v), class: "grid"}));
      s.appendChild(svg("text", {x: L - 6, y: Y(v) + 4, "text-anchor": "end", class: "tick", text: num(Number(v.toPrecision(3)))}));
    });
    [[x0, "start"], [x1, "end"]].forEach(function (a) {
      s.appendChild(svg("text", {x: X(a[0]), y: H - 8, "text-anchor": a[1], class: "tick", text: time(a[0]).slice(11)}));
    });
    series.forEach(function (se, i) {
      var pts = se.points.filter(function (p) { return isFinite(p[1]); }).map(function (p) {
        return X(p[0]).toFixed(1) + "," + Y(p[1]).toFixed(1);
      });
      var color = COLORS[i % COLORS.length];
      if (pts.length === 1) {
        var xy = pts[0].split(",");
        s.appendChild(svg("circle", {cx: xy[0], cy: xy[1], r: 3, fill: color}));
      } else {
        s.appendChild(svg("polyline", {points: pts.join(" "), fill: "none", stroke: color, "stroke-width": 2}));
      }
    });
    wrap.appendChild(s);
    var legend = el("ul", {class: "legend"});
    series.slice(0, opts.legendMax || 20).forEach(function (se, i) {
      legend.appendChild(el("li", {}, el("span", {class: "swatch", style: "background:" + COLORS[i % COLORS.length], "aria-hidden": "true"}),
        opts.legendItem ? opts.legendItem(se) : se.name));
    });
    if (series.length > (opts.legendMax || 20)) legend.appendChild(el("li", {}, "… and " + (series.length - (opts.legendMax || 20)) + " more"));
    wrap.appendChild(el("figcaption", {}, legend));
    return wrap;
  }

  // replace puts node in place of the element with node's id, or appends
  // it to parent; a node whose content did not change is left alone, so
  // focus and scroll stay where they are.
  var lastJSON = {};
  function changed(key, data) {
    var j = JSON.stringify(data);
    if (lastJSON[key] === j) return false;
    lastJSON[key] = j;
    return true;
  }
  // Focus inside the replaced node moves to the same place in the new one,
  // so a refresh does not throw a keyboard user back to the top.
  var FOCUSABLE = "a, button, input, [tabindex]";
  function setSection(id, node) {
    var old = document.getElementById(id);
    var active = document.activeElement;
    var at = null;
    if (active === old) at = -1;
    else if (active && old.contains(active)) at = Array.prototype.indexOf.call(old.querySelectorAll(FOCUSABLE), active);
    node.id = id;
    old.replaceWith(node);
    if (at === -1 && node.matches(FOCUSABLE)) node.focus();
    else if (at !== null && at >= 0) {
      var list = node.querySelectorAll(FOCUSABLE);
      if (list.length) list[Math.min(at, list.length - 1)].focus();
    }
  }

  // ---- all workspaces ----
  function overview() {
    document.title = "Workspaces · rwkit";
    main.replaceChildren(
      el("h1", {}, "Workspaces"),
      el("p", {}, "Samples received, accepted, discarded (refused, counted as AMP's DiscardedSamples) and dropped silently (answered 2xx, counted nowhere by the backend) per workspace since the server started."),
      el("div", {id: "workspaces"}, "Loading…"));
    function load() {
      getJSON("/ui/api/workspaces").then(function (list) {
        statusEl.textContent = "updated " + new Date().toLocaleTimeString();
        if (!changed("workspaces", list)) return;
        setSection("workspaces", table("Workspaces", ["Workspace", "Received", "Accepted", "Discarded", "Dropped silently"],
          list.map(function (w) {
            return row([el("th", {scope: "row"}, el("a", {href: "/workspaces/" + encodeURIComponent(w.id) + "/"}, w.id)),
              w.received, w.accepted, el("td", {class: "num" + (w.discarded ? " bad" : "")}, num(w.discarded)), w.dropped]);
          }), {numeric: [1, 2, 3, 4], empty: "No workspace yet: push to /workspaces/<id>/api/v1/remote_write."}));
      }).catch(loadFailed).finally(function () { setTimeout(load, REFRESH_MS); });
    }
    load();
  }

  // ---- one workspace ----
  function workspaceView(id) {
    var base = "/workspaces/" + encodeURIComponent(id);
    var hints = {};
    document.title = id + " · rwkit";
    var params = new URLSearchParams(location.search);
    var queryInput = el("input", {id: "query-input", name: "query", type: "text", autocomplete: "off", spellcheck: "false",
      placeholder: "e.g. count by (service) ({__name__=~\".+\"})", value: params.get("query") || ""});
    var queryForm = el("form", {id: "query-form", role: "search", onsubmit: function (e) { e.preventDefault(); runQuery(); }},
      el("label", {for: "query-input"}, "PromQL query"),
      el("div", {class: "inline"}, queryInput, el("button", {type: "submit"}, "Run query")));
    var filterInput = el("input", {id: "collision-filter", type: "search", autocomplete: "off", value: params.get("filter") || "",
      placeholder: "series, writer, kind…", oninput: function () { renderCollisions(); }});
    var refusalFilter = el("input", {id: "upstream-filter", type: "search", autocomplete: "off", value: params.get("upstream_filter") || "",
      placeholder: "series, writer, reason, status…", oninput: function () { renderRefusals(); }});
    // toc lists the sections; the upstream's only in pass-through mode.
    function toc(upstream) {
      var sections = [["discards", "Discards"], ["collisions", "Collisions"], ["writers", "Writers"], ["top", "Top series"], ["promql", "PromQL"], ["hints", "Hints"]];
      if (upstream) sections.unshift(["upstream", "Upstream refusals"]);
      return el("nav", {class: "toc", "aria-label": "Sections"}, el("ul", {}, sections.map(function (a) {
        return el("li", {}, el("a", {href: "#" + a[0]}, a[1]));
      })));
    }

    main.replaceChildren(
      el("nav", {"aria-label": "Breadcrumb"}, el("a", {href: "/"}, "All workspaces"), " / ", id),
      el("h1", {}, "Workspace ", el("code", {}, id)),
      el("div", {id: "counts"}),
      el("div", {id: "toc"}, toc(false)),
      // The upstream's section, drawn in pass-through mode only.
      el("div", {id: "upstream", hidden: true}),
      el("section", {id: "discards", "aria-labelledby": "discards-h"},
        el("h2", {id: "discards-h"}, "Discards by reason"),
        el("div", {id: "discard-chart"}), el("div", {id: "discard-table"})),
      el("section", {id: "collisions", "aria-labelledby": "collisions-h"},
        el("h2", {id: "collisions-h"}, "Collisions"),
        el("p", {}, "Two writers on one series: refused (new-value-for-timestamp), accepted but zig-zagging (alternating-writers), or dropped within one request."),
        el("div", {class: "field"}, el("label", {for: "collision-filter"}, "Filter collisions"), filterInput),
        el("div", {id: "collision-table"})),
      el("section", {id: "writers", "aria-labelledby": "writers-h"},
        el("h2", {id: "writers-h"}, "Writers"), el("div", {id: "writer-table"})),
      el("section", {id: "top", "aria-labelledby": "top-h"},
        el("h2", {id: "top-h"}, "Top series counts"),
        el("p", {}, "Active series are what AMP bills and limits."),
        el("div", {class: "pair"}, el("div", {id: "top-names"}), el("div", {id: "top-pairs"}))),
      el("section", {id: "promql", "aria-labelledby": "promql-h"},
        el("h2", {id: "promql-h"}, "PromQL"), queryForm, el("div", {id: "query-status", role: "status", "aria-live": "polite"}),
        el("div", {id: "query-graph"}), el("div", {id: "query-table"})),
      el("section", {id: "hints", "aria-labelledby": "hints-h"},
        el("h2", {id: "hints-h"}, "What each reason means and how to fix it"), el("dl", {id: "hint-list"})));

    var collisions = [], refusals = [];
    function renderCollisions() {
      var f = filterInput.value.trim().toLowerCase();
      var shown = collisions.filter(function (c) {
        if (!f) return true;
        return [c.kind, c.reason || "", labelsText(c.series), writerIdentity(c.existing_writer), writerIdentity(c.new_writer),
          (c.existing_writer || {}).user_agent || "", c.new_writer.user_agent || "", (c.existing_writer || {}).remote_addr || "",
          c.new_writer.remote_addr || ""].join(" ").toLowerCase().indexOf(f) >= 0;
      });
      var more = shown.length - MAX_ROWS;
      setSection("collision-table", el("div", {},
        table("Collisions" + (f ? " matching “" + filterInput.value.trim() + "”" : "") + ": " + shown.length + " of " + collisions.length + (more > 0 ? ", the " + MAX_ROWS + " seen last shown" : ""),
        ["Kind", "Series", "Sample time", "Existing value", "New value", "Existing writer", "New writer", "Count", "First seen", "Last seen"],
        shown.slice(0, MAX_ROWS).map(function (c) {
          var kind = el("td", {class: "kind"}, reasonLink(c.kind, hints));
          if (c.reason) { kind.appendChild(document.createTextNode(" (")); kind.appendChild(reasonLink(c.reason, hints)); kind.appendChild(document.createTextNode(")")); }
          if (c.note) kind.appendChild(el("span", {class: "note"}, c.note));
          return row([kind, el("td", {class: "series"}, labelsText(c.series)), when(c.timestamp), el("td", {class: "num"}, c.existing_value),
            el("td", {class: "num"}, c.new_value), writerCell(c.existing_writer), writerCell(c.new_writer), c.count, when(c.first_seen), when(c.last_seen)],
          {class: "collision " + c.kind});
        }), {numeric: [3, 4, 7], empty: collisions.length ? "No collision matches the filter." : "No collisions: every series has one writer."}),
        more > 0 ? el("p", {class: "empty"}, more + " more: type in the filter to narrow the list, or read " + base + "/api/v1/collisions.") : null));
    }

    // upstreamSection is the upstream's section, its parts drawn by
    // renderUpstream and renderRefusals.
    function upstreamSection(u) {
      return el("section", {"aria-labelledby": "upstream-h"},
        el("h2", {id: "upstream-h"}, "Upstream refusals"),
        el("p", {}, "Pass-through mode: every write is forwarded unchanged to the upstream, whose answer is the sender's; nothing is acknowledged on its behalf. " +
          "The workspace reads each write as well and, when the upstream refuses one (4xx), records why and which writers collided. " +
          "The counts above and the sections below are the workspace's own reading of the same writes" +
          (u.stored ? "." : "; it stores none of their samples (no --upstream-store), so none is counted accepted.")),
        el("div", {id: "upstream-state"}), el("div", {id: "upstream-chart"}), el("div", {id: "upstream-reasons"}),
        el("div", {class: "field"}, el("label", {for: "upstream-filter"}, "Filter upstream refusals"), refusalFilter),
        el("div", {id: "upstream-table"}));
    }

    function renderUpstream(u, history, interval) {
      if (document.getElementById("upstream").tagName !== "SECTION") {
        setSection("toc", el("div", {}, toc(true)));
        setSection("upstream", upstreamSection(u));
        renderRefusals();
      }
      var answer = !u.state ? "none yet" : u.reachable ? String(u.last_status) : "none: " + u.last_error;
      setSection("upstream-state", el("dl", {class: "counts upstream-state"},
        [["Upstream", el("code", {}, u.url)],
          ["State", u.state ? u.state + " (" + num(u.writes_in_state) + " write" + (u.writes_in_state === 1 ? "" : "s") + " since " + time(u.since).slice(11) + ")" : "no write forwarded yet", /^(refusing|failing|unreachable)/.test(u.state)],
          ["Reachable", !u.state ? "not known yet" : u.reachable ? "yes" : "no", u.state && !u.reachable],
          ["Last answer", answer, u.last_status >= 400 || (u.state && !u.reachable)],
          ["Last answered", time(u.last_answer)],
          ["Writes refused", num(u.refused), u.refused > 0]].map(function (a) {
          return el("div", {class: a[2] ? "bad" : null}, el("dt", {}, a[0]), el("dd", {}, a[1]));
        })));
      var series = historySeries(history, function (k) { return k.indexOf("upstream:") === 0 ? k.slice(9) : null; });
      setSection("upstream-chart", lineChart("Writes refused by the upstream per " + interval + " s, by reason", series, {
        empty: "No refusals from the upstream in the last 30 minutes.",
        legendItem: function (se) { return reasonLink(se.name, hints); }}));
      setSection("upstream-reasons", table("Refused by the upstream, by reason (since start)", ["Reason", "Writes"], u.refusals.map(function (r) {
        return row([reasonLink(r.reason, hints), r.count], {class: "upstream-reason " + r.reason});
      }), {numeric: [1], empty: "No write refused by the upstream."}));
    }

    function renderRefusals() {
      if (!document.getElementById("upstream-table")) return;
      var f = refusalFilter.value.trim().toLowerCase();
      var shown = refusals.filter(function (c) {
        if (!f) return true;
        return [c.reason || "", c.note || "", String(c.upstream_status), c.upstream_body || "", labelsText(c.series),
          writerIdentity(c.existing_writer), writerIdentity(c.new_writer), (c.existing_writer || {}).user_agent || "",
          c.new_writer.user_agent || "", (c.existing_writer || {}).remote_addr || "", c.new_writer.remote_addr || ""].join(" ").toLowerCase().indexOf(f) >= 0;
      });
      var more = shown.length - MAX_ROWS;
      setSection("upstream-table", el("div", {},
        table("Refusals" + (f ? " matching “" + refusalFilter.value.trim() + "”" : "") + ": " + shown.length + " of " + refusals.length + (more > 0 ? ", the " + MAX_ROWS + " seen last shown" : ""),
          ["Last seen", "Upstream status", "Reason", "Series", "Stored value", "Refused value", "Refused writer", "Writer of the stored value", "Count"],
          [].concat.apply([], shown.slice(0, MAX_ROWS).map(function (c) {
            // Without a conflict the workspace found itself, there is no
            // series, value or earlier writer to name.
            var found = Object.keys(c.series || {}).length > 0;
            var reason = el("td", {class: "kind reason-source"}, reasonLink(c.reason || "unknown", hints), c.note ? el("span", {class: "note"}, c.note) : null);
            // The upstream's body, often long, has a row of its own.
            var body = el("td", {colspan: 9, class: "body"}, el("span", {class: "note"}, "The upstream's answer, " + c.upstream_status + ":"),
              c.upstream_body ? el("code", {}, c.upstream_body) : el("span", {class: "empty"}, "(an empty body)"));
            return [row([when(c.last_seen), el("td", {class: "num"}, String(c.upstream_status)), reason,
              el("td", {class: "series"}, found ? labelsText(c.series) : "(no conflict the workspace found)"),
              el("td", {class: "num"}, found ? c.existing_value : ""), el("td", {class: "num"}, found ? c.new_value : ""),
              writerCell(c.new_writer), found ? writerCell(c.existing_writer) : el("td", {}, "(none known)"), c.count],
            {class: "upstream-refusal " + (c.reason || "unknown")}), el("tr", {class: "upstream-answer"}, body)];
          })), {numeric: [1, 4, 5, 8], empty: refusals.length ? "No refusal matches the filter." : "No refusals: the upstream has accepted every write of this workspace."}),
        more > 0 ? el("p", {class: "empty"}, more + " more: type in the filter to narrow the list, or read " + base + "/api/v1/collisions.") : null));
    }

    // historySeries are the history's counts as chart series, for the
    // keys name gives a name to (null: not this chart's).
    function historySeries(history, name) {
      var keys = {};
      history.forEach(function (h) { Object.keys(h.counts).forEach(function (k) { if (name(k) !== null) keys[k] = true; }); });
      return Object.keys(keys).sort().map(function (k) {
        return {name: name(k), points: history.map(function (h) { return [Date.parse(h.t), h.counts[k] || 0]; })};
      });
    }

    function renderWorkspace(p) {
      (p.discards.concat(p.drops)).forEach(function (r) { if (r.hint) hints[r.reason] = r.hint; });
      setSection("counts", el("dl", {class: "counts"},
        [["Received", p.received], ["Accepted", p.accepted], ["Discarded", p.discarded], ["Dropped silently", p.dropped], ["Collision groups", p.collisions]].map(function (a) {
          return el("div", {class: a[0] === "Discarded" && a[1] ? "bad" : null}, el("dt", {}, a[0]), el("dd", {}, num(a[1])));
        })));
      if (p.upstream) {
        p.upstream.refusals.forEach(function (r) { if (r.hint) hints[r.reason] = r.hint; });
        renderUpstream(p.upstream, p.history, p.interval_seconds);
      }
      var series = historySeries(p.history, function (k) { return k.indexOf("upstream:") === 0 ? null : k; });
      setSection("discard-chart", lineChart("Samples discarded per " + p.interval_seconds + " s, by reason", series, {
        empty: "No discards in the last 30 minutes.",
        legendItem: function (se) {
          var r = se.name.replace(/^dropped:/, "");
          return el("span", {}, se.name !== r ? "dropped silently: " : "", reasonLink(r, hints));
        }}));
      setSection("discard-table", el("div", {class: "pair"},
        table("Discarded, by reason (since start)", ["Reason", "Samples"], p.discards.map(function (r) {
          return row([reasonLink(r.reason, hints), r.count], {class: "reason " + r.reason});
        }), {numeric: [1], empty: "No samples discarded."}),
        table("Dropped silently (2xx, counted by no backend), by reason", ["Reason", "Samples"], p.drops.map(function (r) {
          return row([reasonLink(r.reason, hints), r.count]);
        }), {numeric: [1], empty: "No samples dropped."})));
      setSection("writer-table", table("Writers: " + p.writers.length, ["Identity", "User-Agent", "Address", "Last seen", "Series written"],
        p.writers.map(function (w) {
          return row([el("th", {scope: "row"}, writerIdentity(w)), w.user_agent || "(none)", w.remote_addr || "", when(w.last_seen), w.series], {class: "writer-row"});
        }), {numeric: [4], empty: "No writer yet."}));
      setSection("hint-list", el("dl", {}, Object.keys(hints).sort().map(function (r) {
        return [el("dt", {id: hintID(r)}, r), el("dd", {}, hints[r])];
      })));
    }

    function renderTop(st) {
      function top(caption, list) {
        var maxV = Math.max.apply(null, [1].concat(list.map(function (x) { return x.value; })));
        return table(caption, ["Name", "Series"], list.map(function (x) {
          return row([el("td", {class: "series"}, x.name), el("td", {class: "num bar", style: "--share:" + (x.value / maxV * 100).toFixed(1) + "%"}, num(x.value))]);
        }), {numeric: [1], empty: "No series yet."});
      }
      setSection("top-names", top("Metric names by series count (of " + num(st.headStats.numSeries) + " series)", st.seriesCountByMetricName));
      setSection("top-pairs", top("Label pairs by series count", st.seriesCountByLabelValuePair));
    }

    function load() {
      var a = getJSON("/ui/api/workspaces/" + encodeURIComponent(id)).then(function (p) {
        if (changed("workspace", p)) renderWorkspace(p);
      });
      var b = getJSON(base + "/api/v1/collisions").then(function (list) {
        if (!changed("collisions", list)) return;
        // The upstream's refusals have their own section.
        collisions = list.filter(function (c) { return c.kind !== "upstream-refused"; });
        refusals = list.filter(function (c) { return c.kind === "upstream-refused"; });
        renderCollisions();
        renderRefusals();
      });
      var c = getJSON(base + "/api/v1/status/tsdb?limit=10").then(function (r) {
        if (changed("tsdb", r.data)) renderTop(r.data);
      });
      Promise.all([a, b, c]).then(function () {
        statusEl.textContent = "updated " + new Date().toLocaleTimeString();
      }).catch(loadFailed).finally(function () { setTimeout(load, REFRESH_MS); });
    }

    // runQuery runs the box's query instantly (a table) and over the last
    // 30 minutes (a graph), and keeps it in the address as ?query=.
    function runQuery() {
      var q = queryInput.value.trim();
      var u = new URL(location.href);
      if (q) u.searchParams.set("query", q); else u.searchParams.delete("query");
      history.replaceState(null, "", u.toString());
      var qs = document.getElementById("query-status");
      if (!q) { qs.textContent = ""; return; }
      qs.textContent = "running…";
      var end = Date.now() / 1000, start = end - 1800;
      function api(path, params) {
        return fetch(base + "/api/v1/" + path + "?" + new URLSearchParams(params)).then(function (r) {
          return r.json().then(function (j) {
            if (j.status !== "success") throw new Error(j.errorType + ": " + j.error);
            return j.data;
          }, function () { throw new Error("HTTP " + r.status); });
        });
      }
      Promise.all([api("query", {query: q, time: end}), api("query_range", {query: q, start: start, end: end, step: 15})]).then(function (res) {
        var inst = res[0], rng = res[1];
        var rows = [];
        if (inst.resultType === "vector") {
          rows = inst.result.map(function (s) { return row([el("td", {class: "series"}, labelsText(s.metric)), el("td", {class: "num"}, s.value[1])]); });
        } else if (inst.resultType === "matrix") {
          rows = inst.result.map(function (s) { return row([el("td", {class: "series"}, labelsText(s.metric)), el("td", {class: "num"}, s.values.length + " samples")]); });
        } else {
          rows = [row([inst.resultType, el("td", {class: "num"}, String(inst.result[1]))])];
        }
        qs.textContent = inst.resultType + ", " + rows.length + " result" + (rows.length === 1 ? "" : "s");
        setSection("query-table", table("Result of " + q, ["Series", "Value"], rows, {numeric: [1], empty: "Empty result."}));
        var series = rng.resultType === "matrix" ? rng.result.map(function (s) {
          return {name: labelsText(s.metric), points: s.values.map(function (v) { return [v[0] * 1000, parseFloat(v[1])]; })};
        }) : [];
        setSection("query-graph", lineChart(q + " over the last 30 minutes", series, {empty: "Nothing to graph.", legendMax: 10}));
      }).catch(function (err) {
        qs.textContent = "query failed: " + err.message;
        setSection("query-table", el("div"));
        setSection("query-graph", el("div"));
      });
    }

    load();
    if (queryInput.value) runQuery();
  }

  var m = location.pathname.match(/^\/workspaces\/([^/]+)\/?$/);
  if (m) workspaceView(decodeURIComponent(m[1]));
  else overview();
})();
