// Guanxi's one script: progressive enhancement only. Every page works without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // The language switch returns to the page it was used on.
  document.addEventListener("DOMContentLoaded", function () {
    var back = document.querySelector('form.lang-switch input[name="next"]');
    if (back) back.value = location.pathname + location.search;
  });
  var doc = document;
  var en = doc.documentElement.lang === "en";
  var phoneQuery = window.matchMedia("(max-width: 1023px)"); // where the tree is a drawer
  function isPhone() { return phoneQuery.matches; }

  // Function tree: collapse to icons (remembered), a drawer on phones.
  var toggle = doc.getElementById("menu-toggle");
  var sidebar = doc.getElementById("sidebar");
  var key = "gx.sidebar.collapsed";
  function syncToggle() {
    if (!toggle) return;
    var open = isPhone() ? doc.body.classList.contains("drawer-open") : !doc.body.classList.contains("collapsed");
    toggle.setAttribute("aria-expanded", String(open));
  }
  function closeDrawer(focusToggle) {
    if (!doc.body.classList.contains("drawer-open")) return false;
    doc.body.classList.remove("drawer-open");
    syncToggle();
    if (focusToggle && toggle) toggle.focus();
    return true;
  }
  if (toggle) {
    try { if (localStorage.getItem(key) === "1") doc.body.classList.add("collapsed"); } catch (err) { /* storage off */ }
    syncToggle();
    toggle.addEventListener("click", function () {
      if (isPhone()) {
        doc.body.classList.toggle("drawer-open");
      } else {
        var on = doc.body.classList.toggle("collapsed");
        try { localStorage.setItem(key, on ? "1" : "0"); } catch (err) { /* storage off */ }
      }
      syncToggle();
    });
    var onChange = function () { doc.body.classList.remove("drawer-open"); syncToggle(); };
    if (phoneQuery.addEventListener) phoneQuery.addEventListener("change", onChange);
  }

  // The user menu (a <details>) closes on a click elsewhere and on Esc.
  var userMenu = doc.querySelector(".user-menu");
  function closeUserMenu(focusSummary) {
    if (!userMenu || !userMenu.open) return false;
    userMenu.open = false;
    if (focusSummary) userMenu.querySelector("summary").focus();
    return true;
  }

  // Small menus (<details class="menu-btn">, e.g. 导出): closed by a click elsewhere and by Esc.
  function closeMenus(except) {
    var closed = false;
    doc.querySelectorAll("details.menu-btn[open]").forEach(function (d) {
      if (!except || !d.contains(except)) { d.open = false; closed = true; }
    });
    return closed;
  }

  // Print buttons (detail page, a list's print view) show only where they work.
  doc.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });

  // In-place editors (<details class="inline-edit">): one open at a time, cursor in the first field.
  function closeInlineEdits(except) {
    var closed = false;
    doc.querySelectorAll("details.inline-edit[open]").forEach(function (d) {
      if (d !== except && !d.contains(except)) { d.open = false; closed = true; }
    });
    return closed;
  }
  doc.addEventListener("toggle", function (e) {
    var d = e.target;
    if (!d.classList || !d.classList.contains("inline-edit") || !d.open) return;
    closeInlineEdits(d);
    var f = d.querySelector("input:not([type=hidden]), select");
    if (f) f.focus();
  }, true);

  doc.addEventListener("click", function (e) {
    var t = e.target;
    if (userMenu && userMenu.open && !userMenu.contains(t)) closeUserMenu(false);
    closeMenus(t);
    if (t.closest && !t.closest("details.inline-edit")) closeInlineEdits(null);
    if (doc.body.classList.contains("drawer-open") && sidebar) {
      var inDrawer = sidebar.contains(t);
      if ((!inDrawer && !(toggle && toggle.contains(t))) || (inDrawer && t.closest && t.closest("a"))) closeDrawer(false);
    }
  });
  doc.addEventListener("focusin", function (e) {
    if (userMenu && userMenu.open && !userMenu.contains(e.target)) closeUserMenu(false);
  });

  // Confirmation before destructive actions, in a native <dialog> naming the record.
  var pending = null;
  var dialog = doc.createElement("dialog");
  dialog.className = "confirm";
  dialog.setAttribute("aria-labelledby", "confirm-text");
  dialog.innerHTML = '<p class="confirm-text"><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3l10 18H2zM12 10v4M12 17.5v.01"/></svg>' +
    '<span id="confirm-text"></span></p><form method="dialog"><button value="cancel" class="btn ghost"></button><button value="ok" class="btn danger"></button></form>';
  var okBtn = dialog.querySelector('[value="ok"]');
  dialog.querySelector('[value="cancel"]').textContent = en ? "Cancel" : "取消";
  function mountDialog() { if (!dialog.parentNode) doc.body.appendChild(dialog); }
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", mountDialog); else mountDialog();
  var pendingSubmitter = null;
  dialog.addEventListener("close", function () {
    var f = pending, by = pendingSubmitter;
    pending = null;
    pendingSubmitter = null;
    if (dialog.returnValue === "ok" && f) {
      f.dataset.confirmed = "1";
      if (f.requestSubmit) f.requestSubmit(by || undefined); else f.submit();
    }
  });
  doc.addEventListener("submit", function (e) {
    var f = e.target;
    if (!f.dataset) return;
    var by = e.submitter;
    var message = (by && by.dataset && by.dataset.confirmBulk) || f.dataset.confirm;
    if (message && !f.dataset.confirmed && dialog.showModal) {
      e.preventDefault();
      pending = f;
      pendingSubmitter = by || null;
      var b = by || f.querySelector("button:not([type=button])");
      dialog.querySelector("#confirm-text").textContent = message;
      okBtn.textContent = (b && b.textContent.trim()) || (en ? "Confirm" : "确定");
      okBtn.className = "btn " + (b && !b.classList.contains("danger") ? "primary" : "danger");
      dialog.returnValue = "";
      dialog.showModal();
      return;
    }
    f.dataset.submitting = "1";
  }, true);

  // List check boxes: "select all", and the bulk bar only while something is selected.
  function syncBulk(form) {
    var any = form.querySelector('input[name="ids"]:checked') !== null;
    form.classList.toggle("has-selection", any);
  }
  doc.addEventListener("change", function (e) {
    var t = e.target;
    if (!t.form || t.form.id !== "bulk-form") return;
    if (t.hasAttribute("data-select-all")) {
      t.form.querySelectorAll('input[name="ids"]').forEach(function (c) { c.checked = t.checked; });
    }
    syncBulk(t.form);
  });

  // After the browser's back / forward cache restores a page, it may be submitted again.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    doc.querySelectorAll("form[data-submitting], form[data-confirmed]").forEach(function (f) {
      delete f.dataset.submitting;
      delete f.dataset.confirmed;
    });
    closeUserMenu(false);
    closeDrawer(false);
  });

  // Success toasts fade; the ?ok= marker leaves the address bar so a reload does not repeat it.
  var toast = doc.querySelector(".toast");
  if (toast) {
    var hide = function () { toast.classList.add("hide"); };
    setTimeout(hide, 3000);
    toast.addEventListener("click", hide);
    if (location.search.indexOf("ok=") >= 0 && history.replaceState) {
      var u = new URL(location.href);
      u.searchParams.delete("ok");
      history.replaceState(null, "", u.pathname + u.search + u.hash);
    }
  }

  // Filters that apply on change.
  doc.addEventListener("change", function (e) {
    var t = e.target;
    if (t.matches && t.matches("[data-autosubmit]") && t.form) {
      if (t.form.requestSubmit) t.form.requestSubmit(); else t.form.submit();
    }
  });

  // Warn before leaving a changed form.
  var dirty = false;
  function markDirty(e) {
    if (e.target.form && e.target.form.hasAttribute("data-dirty-check")) dirty = true;
  }
  doc.addEventListener("input", markDirty);
  doc.addEventListener("change", markDirty);
  window.addEventListener("beforeunload", function (e) {
    var submitting = doc.querySelector("form[data-submitting]");
    if (dirty && !submitting) { e.preventDefault(); e.returnValue = ""; }
  });

  // Server-side field errors: mark the field invalid and put the cursor in the first one.
  var firstBad = null;
  doc.querySelectorAll(".field-error").forEach(function (m) {
    if (!m.textContent.trim()) return;
    var box = m.closest("label, fieldset");
    var field = box && box.querySelector("input:not([type=hidden]), select, textarea");
    if (!field) return;
    field.setAttribute("aria-invalid", "true");
    if (!firstBad) firstBad = field;
    field.addEventListener("input", function () { field.removeAttribute("aria-invalid"); }, { once: true });
  });
  if (firstBad) firstBad.focus();

  // One-time secrets (new password, new token): a copy button.
  doc.querySelectorAll(".alert[role=status] code").forEach(function (code) {
    var btn = doc.createElement("button");
    btn.type = "button";
    btn.className = "btn small";
    var label = en ? "Copy" : "复制";
    btn.textContent = label;
    btn.addEventListener("click", function () {
      var text = code.textContent;
      var done = function () {
        btn.textContent = en ? "Copied" : "已复制";
        setTimeout(function () { btn.textContent = label; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () {});
      } else {
        var r = doc.createRange();
        r.selectNodeContents(code);
        var s = window.getSelection();
        s.removeAllRanges();
        s.addRange(r);
        try { if (doc.execCommand("copy")) done(); } catch (err) { /* the text stays selected */ }
      }
    });
    code.insertAdjacentText("afterend", " ");
    code.parentNode.insertBefore(btn, code.nextSibling.nextSibling);
  });

  // Keyboard: Esc closes menus and the drawer, "/" search, "n" new record, Ctrl+Enter saves.
  doc.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key === "Escape") {
      var open = t.closest && t.closest("details.inline-edit[open]");
      if (open) { open.open = false; open.querySelector("summary").focus(); e.preventDefault(); return; }
      if (closeMenus(null) || closeUserMenu(true) || closeDrawer(true)) e.preventDefault();
      return;
    }
    if (dialog.open) return;
    var typing = t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName);
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && t.form) {
      e.preventDefault();
      if (t.form.requestSubmit) t.form.requestSubmit(); else t.form.submit();
      return;
    }
    if (typing || e.ctrlKey || e.metaKey || e.altKey || e.key.length !== 1) return;
    var el = doc.querySelector('[data-shortcut="' + e.key + '"]');
    if (!el) return;
    e.preventDefault();
    if (el.tagName === "A") location.href = el.href; else { el.focus(); if (el.select) el.select(); }
  });

  // Region pickers (地区, templates/region_picker.html): a changed level drops the levels below
  // it and, when the choice has sub-regions, adds the next level's drop-down.
  doc.addEventListener("change", function (e) {
    var sel = e.target;
    var picker = sel.closest && sel.closest("[data-region-picker]");
    if (!picker || sel.tagName !== "SELECT") return;
    var level = Number(sel.getAttribute("data-region-level"));
    picker.querySelectorAll("select").forEach(function (s) {
      if (Number(s.getAttribute("data-region-level")) > level) s.remove();
    });
    var seq = String(Number(picker.getAttribute("data-seq") || 0) + 1);
    picker.setAttribute("data-seq", seq);
    var label = picker.getAttribute("data-label-" + (level + 1));
    if (!sel.value || !label) return;
    fetch("/api/v1/regions?parent=" + encodeURIComponent(sel.value), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (items) {
        if (picker.getAttribute("data-seq") !== seq || !items.length) return;
        var next = doc.createElement("select");
        next.name = sel.name;
        next.setAttribute("data-region-level", String(level + 1));
        next.setAttribute("aria-label", label);
        next.add(new Option(label, ""));
        items.forEach(function (r) { next.add(new Option(r.name, r.code)); });
        picker.appendChild(next);
      })
      .catch(function () { /* offline: the chosen level stands */ });
  });

  // Relation pickers (templates/field_input.html): a text box that asks the linked module's API
  // as the user types (ARIA combobox with a listbox) and a hidden input holding the chosen id.
  // Without the script the id box itself stays, with the current record's name beside it.
  var pickers = 0;
  function relationPicker(box) {
    var text = box.querySelector(".relation-search"), id = box.querySelector(".relation-id");
    if (!text || !id) return;
    var list = doc.createElement("ul");
    list.id = "relation-list-" + (++pickers);
    list.className = "relation-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", text.getAttribute("aria-label") || "");
    list.hidden = true;
    box.appendChild(list);
    text.setAttribute("aria-controls", list.id);
    text.required = id.required;
    id.required = false;
    id.type = "hidden";
    text.hidden = false;
    var chosen = text.value, found = [], active = -1, timer = null, seq = 0;
    var module = box.getAttribute("data-module"), titleField = box.getAttribute("data-title-field");
    function close() {
      seq++;
      list.hidden = true;
      text.setAttribute("aria-expanded", "false");
      mark(-1);
    }
    function mark(i) {
      active = i;
      var opts = list.querySelectorAll("li:not([aria-disabled])");
      opts.forEach(function (o, j) { o.setAttribute("aria-selected", String(j === i)); });
      if (i < 0) { text.removeAttribute("aria-activedescendant"); return; }
      text.setAttribute("aria-activedescendant", opts[i].id);
      opts[i].scrollIntoView({ block: "nearest" });
    }
    var create = box.querySelector(".relation-new");
    function settled() {
      var v = text.value.trim();
      if (create) {
        // A name that is not a picked record names a new one (a contact's organisation).
        create.value = v && v !== chosen ? v : "";
        if (create.value) id.value = "";
        return;
      }
      text.setCustomValidity(v && v !== chosen ? box.getAttribute("data-choose") : "");
    }
    function choose(i) {
      var r = found[i];
      if (!r) return;
      id.value = String(r.id);
      chosen = text.value = r.label;
      settled();
      close();
      id.dispatchEvent(new Event("change", { bubbles: true }));
    }
    function show(items) {
      found = items;
      list.textContent = "";
      if (!items.length) {
        var none = doc.createElement("li");
        none.setAttribute("role", "option");
        none.setAttribute("aria-disabled", "true");
        none.textContent = box.getAttribute("data-empty");
        list.appendChild(none);
      }
      items.forEach(function (r, i) {
        var li = doc.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.textContent = r.label;
        if (r.hint) {
          var hint = doc.createElement("small");
          hint.className = "muted";
          hint.textContent = " · " + r.hint;
          li.appendChild(hint);
        }
        list.appendChild(li);
      });
      list.hidden = false;
      text.setAttribute("aria-expanded", "true");
      mark(items.length ? 0 : -1);
    }
    function search() {
      var q = text.value.trim(), mine = ++seq;
      if (!q) { close(); return; }
      fetch("/api/v1/" + module + "?limit=20&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (page) {
          if (mine !== seq || doc.activeElement !== text) return;
          show((page.items || []).map(function (r) {
            return { id: r.id, label: String(r[titleField] || "#" + r.id), hint: r.owner_name || "" };
          }));
        })
        .catch(function () { /* offline: the current choice stands */ });
    }
    text.addEventListener("input", function () {
      if (!text.value.trim()) { id.value = ""; chosen = ""; }
      settled();
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    text.addEventListener("keydown", function (e) {
      var open = !list.hidden, n = found.length;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (!open) { clearTimeout(timer); search(); return; }
        if (n) mark(e.key === "ArrowDown" ? (active + 1) % n : (active + n - 1) % n);
      } else if (e.key === "Enter" && open && active >= 0 && !(e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        choose(active);
      } else if (e.key === "Escape" && (open || text.value !== chosen)) {
        // Esc closes the list, then undoes the typing; only a third Esc leaves the editor.
        e.preventDefault();
        e.stopPropagation();
        if (open) close(); else { text.value = chosen; settled(); }
      }
    });
    text.addEventListener("blur", close);
    list.addEventListener("mousedown", function (e) { e.preventDefault(); });
    list.addEventListener("click", function (e) {
      var li = e.target.closest("li");
      if (li && !li.hasAttribute("aria-disabled")) choose(Number(li.id.split("-").pop()));
    });
  }
  doc.querySelectorAll("[data-relation-picker]").forEach(relationPicker);

  // A full first list page asks the list API how many records match (up to 1,000) once it is
  // shown, so the page never waits for a count.
  var counter = doc.querySelector("#record-count[data-count-url]");
  if (counter) {
    fetch(counter.getAttribute("data-count-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (page) {
        if (!page || typeof page.count !== "number") return;
        var text = counter.getAttribute(page.count_more ? "data-more" : "data-one");
        counter.textContent = text.replace("{n}", page.count.toLocaleString("en-US"));
      })
      .catch(function () { /* no count: the list itself is complete */ });
  }

  // Filter builder (templates/record_list.html): a row offers the operators that fit its field
  // and value inputs of the field's type; "is one of" (a multiple select) and "is between" (two
  // inputs) are joined into the one hidden cond_value the server reads. Without the script each
  // row is a plain text box.
  function filterRow(row) {
    var field = row.querySelector("[data-filter-field]"), op = row.querySelector("select[name=cond_op]");
    var holder = row.querySelector("input[name=cond_value]");
    if (!field || !op || !holder) return;
    var box = doc.createElement("span");
    box.className = "filter-value";
    holder.after(box);
    holder.type = "hidden";
    function sync() {
      var parts = [];
      box.querySelectorAll("input, select").forEach(function (el) {
        if (el.multiple) {
          Array.prototype.forEach.call(el.selectedOptions, function (o) { parts.push(o.value); });
        } else if (el.value !== "") parts.push(el.value);
      });
      holder.value = parts.join(",");
    }
    function build() {
      var opt = field.selectedOptions[0], ops = opt && opt.getAttribute("data-ops");
      var allowed = ops ? ops.split(",") : null;
      Array.prototype.forEach.call(op.options, function (o) {
        o.hidden = o.disabled = !!allowed && allowed.indexOf(o.value) < 0;
      });
      if (allowed && allowed.indexOf(op.value) < 0) op.value = allowed[0];
      var kind = (opt && opt.getAttribute("data-input")) || "text", o = op.value;
      var n = o === "between" ? 2 : o === "empty" || o === "not_empty" ? 0 : 1;
      var old = holder.value.split(","), label = holder.getAttribute("aria-label");
      var tpl = opt && opt.value && doc.querySelector('template[data-filter-options="' + opt.value + '"]');
      box.textContent = "";
      for (var i = 0; i < n; i++) {
        var el;
        if (tpl && kind === "select") {
          el = doc.createElement("select");
          if (o === "in") el.multiple = true; else el.add(new Option("", ""));
          el.appendChild(tpl.content.cloneNode(true));
          Array.prototype.forEach.call(el.options, function (x) { x.selected = !!x.value && old.indexOf(x.value) >= 0; });
        } else {
          el = doc.createElement("input");
          el.type = kind === "date" ? "date" : kind === "number" || kind === "money" ? "number" : "text";
          if (el.type === "number") el.step = "any";
          el.value = o === "in" ? holder.value : old[i] || "";
        }
        el.setAttribute("aria-label", label);
        el.addEventListener("change", sync);
        el.addEventListener("input", sync);
        box.appendChild(el);
      }
      sync();
    }
    field.addEventListener("change", function () { holder.value = ""; build(); });
    op.addEventListener("change", build);
    build();
  }
  doc.querySelectorAll(".filter-row").forEach(filterRow);

  // Column chooser: ↑ / ↓ move a column among the check boxes, which 应用 sends in that order.
  // (Without the script the buttons submit the form and the server moves the column.)
  doc.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest(".column-move button");
    if (!b) return;
    e.preventDefault();
    var row = b.closest(".column-choice"), up = /\.up$/.test(b.value);
    var other = up ? row.previousElementSibling : row.nextElementSibling;
    if (!other || !other.classList.contains("column-choice")) return;
    row.parentNode.insertBefore(row, up ? other : other.nextSibling);
    b.focus();
  });

  // "Back" on error pages: only offered when there is somewhere to go back to.
  var back = doc.querySelector("[data-back]");
  if (back) {
    if (history.length > 1) back.hidden = false;
    back.addEventListener("click", function (e) { e.preventDefault(); history.back(); });
  }
})();

// Live notifications: the bell's unread badge follows the server's feed (Server-Sent Events),
// and a notification that arrives while the page is open shows as a toast linking to it.
(function () {
  "use strict";
  var doc = document;
  var bell = doc.getElementById("bell"), badge = doc.getElementById("bell-count");
  if (!bell || !badge || !window.EventSource) return;
  var source = null, toastTimer = null;
  function setCount(n) {
    badge.textContent = n > 99 ? "99+" : String(n);
    badge.hidden = n <= 0;
    bell.setAttribute("aria-label", n > 0 ? bell.getAttribute("data-label-unread").replace("{n}", String(n)) : bell.getAttribute("data-label"));
  }
  function toast(n) {
    var old = doc.getElementById("notice-toast");
    if (old) old.remove();
    clearTimeout(toastTimer);
    var box = doc.createElement("div");
    box.id = "notice-toast";
    box.className = "toast notice-toast";
    box.setAttribute("role", "status");
    var text = doc.createElement("span");
    text.textContent = n.text;
    var open = doc.createElement("a");
    open.href = n.link ? "/notifications/" + encodeURIComponent(n.id) + "/open" : "/notifications";
    open.textContent = bell.getAttribute("data-open-label");
    box.appendChild(text);
    box.appendChild(doc.createTextNode(" "));
    box.appendChild(open);
    doc.body.appendChild(box);
    var hide = function () { box.classList.add("hide"); };
    toastTimer = setTimeout(hide, 8000);
    box.addEventListener("mouseenter", function () { clearTimeout(toastTimer); });
    box.addEventListener("mouseleave", function () { toastTimer = setTimeout(hide, 3000); });
  }
  function connect() {
    if (source) return;
    source = new EventSource("/api/v1/notifications/stream");
    source.addEventListener("open", function () { bell.setAttribute("data-live", "1"); });
    source.addEventListener("unread", function (e) {
      var n = Number(e.data);
      if (!isNaN(n)) setCount(n);
    });
    source.addEventListener("notification", function (e) {
      try { toast(JSON.parse(e.data)); } catch (err) { /* a malformed event is skipped */ }
    });
    // The browser reconnects by itself after a network error; a refusal (signed out) is final.
    source.addEventListener("error", function () {
      bell.removeAttribute("data-live");
      if (source && source.readyState === EventSource.CLOSED) source = null;
    });
  }
  // Closed while the page sits in the back / forward cache, reopened when it comes back.
  window.addEventListener("pagehide", function () { if (source) { source.close(); source = null; } });
  window.addEventListener("pageshow", function (e) { if (e.persisted) connect(); });
  connect();
})();
