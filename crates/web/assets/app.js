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
      if (closeUserMenu(true) || closeDrawer(true)) e.preventDefault();
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

  // "Back" on error pages: only offered when there is somewhere to go back to.
  var back = doc.querySelector("[data-back]");
  if (back) {
    if (history.length > 1) back.hidden = false;
    back.addEventListener("click", function (e) { e.preventDefault(); history.back(); });
  }
})();
