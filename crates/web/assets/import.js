// The import pages: upload with a progress bar, live progress of a running import, and the grid
// of failed rows (saved in place, loaded 100 at a time). Without it the pages' forms still work.
(function () {
  "use strict";
  var doc = document;
  var JSON_HEADERS = { "Content-Type": "application/json", Accept: "application/json" };
  var dataEl = doc.getElementById("i18n-import");
  var data = dataEl ? JSON.parse(dataEl.textContent) : { t: {}, headers: [], mapping: [] };
  var T = data.t || {};

  // A message key with its arguments, Fluent placeholders filled: "与文件第 {$line} 行重复。".
  function tr(key, args) {
    var text = T[key] || key;
    return text.replace(/\{\s*\$(\w+)\s*\}/g, function (m, name) {
      return args && args[name] !== undefined && args[name] !== null ? String(args[name]) : m;
    });
  }
  function apiError(body, fallback) {
    var e = body && body.error;
    if (!e) return fallback;
    var fields = e.fields ? Object.keys(e.fields).map(function (k) { return e.fields[k]; }) : [];
    return fields.length ? fields.join(" ") : (e.message || fallback);
  }
  function el(tag, cls, text) {
    var n = doc.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }

  // 1. Upload: the file goes to the API (large files welcome there), then to the import's page.
  var upload = doc.getElementById("import-upload");
  if (upload) {
    var bar = doc.getElementById("upload-progress");
    var msg = doc.getElementById("upload-error");
    var fileInput = upload.querySelector('input[type="file"]');
    var button = doc.getElementById("upload-button");
    var showError = function (text) {
      msg.textContent = text;
      fileInput.setAttribute("aria-invalid", "true");
      button.disabled = false;
      bar.hidden = true;
      fileInput.focus();
    };
    fileInput.addEventListener("change", function () { msg.textContent = ""; fileInput.removeAttribute("aria-invalid"); });
    upload.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!fileInput.files.length) { showError(upload.getAttribute("data-missing")); return; }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", upload.getAttribute("data-api"));
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (p) {
        if (p.lengthComputable) { bar.hidden = false; bar.value = Math.round(p.loaded * 100 / p.total); }
      });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
        if (xhr.status === 201 && body && body.id) { location.href = "/imports/" + body.id; return; }
        showError(apiError(body, upload.getAttribute("data-failed")));
      });
      xhr.addEventListener("error", function () { showError(upload.getAttribute("data-failed")); });
      button.disabled = true;
      msg.textContent = "";
      xhr.send(new FormData(upload));
    });
  }

  // 2. Progress: asks every second; when the import leaves its running state the page is drawn anew.
  var box = doc.getElementById("import-progress-box");
  if (box) {
    var busy = ["validating", "queued", "running", "reverting"];
    var poll = function () {
      fetch(box.getAttribute("data-poll"), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) { setTimeout(poll, 3000); return; }
          if (busy.indexOf(s.state) < 0) { location.replace(location.pathname); return; }
          var done = s.state === "reverting" ? s.reverted_rows : s.position;
          var total = s.state === "reverting" ? s.created_rows + s.updated_rows : s.total_rows;
          var bar = doc.getElementById("import-progress");
          if (s.state !== "validating" && total > 0) { bar.max = total; bar.value = done; } else bar.removeAttribute("value");
          doc.getElementById("progress-text").textContent = s.state === "validating" ? String(s.total_rows) : done + (total > 0 ? " / " + total : "");
          doc.getElementById("progress-rate").textContent = s.rows_per_second ? tr("import-ui-rate", { rate: Math.round(s.rows_per_second) }) : "";
          var left = s.seconds_left;
          doc.getElementById("progress-left").textContent = left === null || left === undefined ? "" :
            left < 90 ? tr("import-ui-left-seconds", { n: Math.max(1, Math.round(left)) }) : tr("import-ui-left-minutes", { n: Math.round(left / 60) });
          var badge = doc.getElementById("state-badge");
          if (badge) badge.textContent = tr("import-ui-state-" + s.state);
          setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 3000); });
    };
    setTimeout(poll, 1000);
  }

  // 3. The grid of failed rows.
  var grid = doc.getElementById("error-grid");
  if (!grid) return;
  var importId = grid.getAttribute("data-import");
  var saveLabel = T.save || "Save";

  // Puts each reason under its cell (or under the row when it is about no column).
  function showErrors(tr_, errors, fixed, done) {
    var line = tr_.getAttribute("data-line");
    tr_.querySelectorAll(".cell-error").forEach(function (n) { n.remove(); });
    tr_.querySelectorAll("td.bad").forEach(function (td) { td.classList.remove("bad"); });
    tr_.querySelectorAll("input[name=cell]").forEach(function (i) { i.removeAttribute("aria-invalid"); i.removeAttribute("aria-describedby"); });
    var cells = tr_.querySelectorAll("td[data-col]");
    var last = tr_.querySelector("td.actions-col");
    (errors || []).forEach(function (e, k) {
      var at = data.mapping.indexOf(e.field);
      if (at < 0 && e.column) at = data.headers.indexOf(e.column);
      var td = at >= 0 ? cells[at] : null;
      var note = el("span", "cell-error" + (td ? "" : " row-error"), tr(e.message, e.args));
      if (td) {
        note.id = "err-" + line + "-" + at + "-" + k;
        td.classList.add("bad");
        var input = td.querySelector("input");
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + note.id).trim());
        td.appendChild(note);
      } else {
        last.appendChild(note);
      }
    });
    tr_.classList.toggle("fixed", !!fixed && !done);
    tr_.classList.toggle("done", !!done);
    tr_.querySelector(".row-status").textContent = done ? tr("import-ui-row-done") : fixed ? tr("import-ui-row-fixed") : "";
  }

  function buildRow(r) {
    var row = el("tr");
    row.id = "row-" + r.line;
    row.setAttribute("data-line", r.line);
    row.appendChild(el("td", "line", String(r.line)));
    data.headers.forEach(function (h, i) {
      var td = el("td");
      td.setAttribute("data-label", h);
      td.setAttribute("data-col", i);
      var input = el("input");
      input.name = "cell";
      input.value = r.cells[i] === undefined ? "" : r.cells[i];
      input.setAttribute("form", "fix-" + r.line);
      input.setAttribute("aria-label", h + " · " + r.line);
      input.readOnly = r.done;
      if (doc.getElementById("opts-" + i)) input.setAttribute("list", "opts-" + i);
      td.appendChild(input);
      row.appendChild(td);
    });
    var act = el("td", "actions-col");
    var wrap = el("div", "row-actions");
    if (!r.done) {
      var form = el("form", "row-fix");
      form.id = "fix-" + r.line;
      form.method = "post";
      form.action = "/imports/" + importId + "/rows/" + r.line;
      form.appendChild(el("button", "btn small", saveLabel));
      wrap.appendChild(form);
    }
    var status = el("span", "row-status");
    status.setAttribute("role", "status");
    wrap.appendChild(status);
    act.appendChild(wrap);
    row.appendChild(act);
    showErrors(row, r.errors, r.fixed, r.done);
    return row;
  }

  // Server-drawn rows get the column markers the script uses.
  grid.querySelectorAll("tbody tr").forEach(function (row) {
    row.querySelectorAll("td[data-label]").forEach(function (td, i) { td.setAttribute("data-col", i); });
  });

  var continueForm = doc.getElementById("continue-form");
  grid.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.classList.contains("row-fix")) return;
    e.preventDefault();
    var row = form.closest("tr");
    var line = row.getAttribute("data-line");
    var cells = Array.prototype.map.call(grid.querySelectorAll('input[form="fix-' + line + '"]'), function (i) { return i.value; });
    var btn = form.querySelector("button");
    btn.disabled = true;
    fetch("/api/v1/imports/" + importId + "/errors/" + line, { method: "PUT", headers: JSON_HEADERS, body: JSON.stringify({ cells: cells }) })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        btn.disabled = false;
        if (!res.ok) {
          row.querySelector(".row-status").textContent = tr("import-ui-save-failed", { message: apiError(res.body, "") });
          return;
        }
        var wasFixed = row.classList.contains("fixed");
        showErrors(row, res.body.errors, res.body.fixed, res.body.done);
        var count = doc.getElementById("fixed-count");
        if (continueForm && count && res.body.fixed !== wasFixed) {
          var n = Number(count.textContent) + (res.body.fixed ? 1 : -1);
          count.textContent = String(n);
          if (continueForm.getAttribute("data-state") === "done") continueForm.hidden = n <= 0;
        }
      })
      .catch(function () {
        btn.disabled = false;
        row.querySelector(".row-status").textContent = tr("import-ui-save-failed", { message: "" });
      });
  });

  // More rows: on "load more" and when it scrolls into view, so thousands never load at once.
  var more = doc.getElementById("grid-more");
  if (!more) return;
  var loading = false;
  function loadMore(e) {
    if (e) e.preventDefault();
    if (loading || more.hidden) return;
    loading = true;
    var label = more.textContent;
    more.textContent = tr("import-ui-loading");
    var after = more.getAttribute("data-after");
    fetch("/api/v1/imports/" + importId + "/errors?limit=100&after=" + encodeURIComponent(after), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (rows) {
        var body = grid.tBodies[0];
        rows.forEach(function (r) { body.appendChild(buildRow(r)); });
        if (rows.length < 100) more.parentNode.hidden = more.hidden = true;
        else more.setAttribute("data-after", rows[rows.length - 1].line);
      })
      .catch(function () { /* the link still leads to the next page */ })
      .then(function () { loading = false; more.textContent = label; });
  }
  more.addEventListener("click", loadMore);
  if ("IntersectionObserver" in window) {
    new IntersectionObserver(function (entries) {
      if (entries.some(function (x) { return x.isIntersecting; })) loadMore(null);
    }, { rootMargin: "200px" }).observe(more);
  }
})();
