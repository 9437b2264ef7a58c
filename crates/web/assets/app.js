// Guanxi's one script: progressive enhancement only. Every page works without it.
(function () {
  "use strict";
  var doc = document;

  // Function tree: collapse to icons (remembered), a drawer on phones.
  var toggle = doc.getElementById("menu-toggle");
  if (toggle) {
    var key = "gx.sidebar.collapsed";
    if (localStorage.getItem(key) === "1") doc.body.classList.add("collapsed");
    toggle.addEventListener("click", function () {
      var phone = window.matchMedia("(max-width: 760px)").matches;
      var cls = phone ? "drawer-open" : "collapsed";
      var on = doc.body.classList.toggle(cls);
      toggle.setAttribute("aria-expanded", String(phone ? on : !on));
      if (!phone) localStorage.setItem(key, on ? "1" : "0");
    });
  }

  // Confirmation before destructive actions, in a native <dialog> naming the record.
  var pending = null;
  var dialog = doc.createElement("dialog");
  dialog.className = "confirm";
  dialog.innerHTML = '<p class="confirm-text"></p><form method="dialog"><button value="cancel" class="btn ghost"></button> <button value="ok" class="btn danger"></button></form>';
  doc.addEventListener("DOMContentLoaded", function () {
    doc.body.appendChild(dialog);
    var lang = doc.documentElement.lang === "en";
    dialog.querySelector('[value="cancel"]').textContent = lang ? "Cancel" : "取消";
    dialog.querySelector('[value="ok"]').textContent = lang ? "Confirm" : "确定";
  });
  dialog.addEventListener("close", function () {
    if (dialog.returnValue === "ok" && pending) {
      var f = pending;
      pending = null;
      f.dataset.confirmed = "1";
      f.requestSubmit();
    }
  });
  doc.addEventListener("submit", function (e) {
    var f = e.target;
    if (f.dataset && f.dataset.confirm && !f.dataset.confirmed) {
      e.preventDefault();
      pending = f;
      dialog.querySelector(".confirm-text").textContent = f.dataset.confirm;
      dialog.showModal();
    }
    if (f.dataset) f.dataset.submitting = "1";
  }, true);

  // Success toasts fade; the ?ok= marker leaves the address bar so a reload does not repeat it.
  var toast = doc.querySelector(".toast");
  if (toast) {
    setTimeout(function () { toast.classList.add("hide"); }, 3000);
    if (location.search.indexOf("ok=") >= 0 && history.replaceState) {
      var u = new URL(location.href);
      u.searchParams.delete("ok");
      history.replaceState(null, "", u.pathname + u.search + u.hash);
    }
  }

  // Filters that apply on change.
  doc.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("[data-autosubmit]")) e.target.form.requestSubmit();
  });

  // Warn before leaving a changed form.
  var dirty = false;
  doc.addEventListener("input", function (e) {
    if (e.target.form && e.target.form.hasAttribute("data-dirty-check")) dirty = true;
  });
  window.addEventListener("beforeunload", function (e) {
    var submitting = doc.querySelector("form[data-submitting]");
    if (dirty && !submitting) { e.preventDefault(); e.returnValue = ""; }
  });

  // Keyboard: "/" search, "n" new record, Ctrl+Enter saves.
  doc.addEventListener("keydown", function (e) {
    var t = e.target;
    var typing = t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName);
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && t.form) { t.form.requestSubmit(); return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    var el = doc.querySelector('[data-shortcut="' + e.key + '"]');
    if (!el) return;
    e.preventDefault();
    if (el.tagName === "A") location.href = el.href; else el.focus();
  });

  var back = doc.querySelector("[data-back]");
  if (back) back.addEventListener("click", function (e) { e.preventDefault(); history.back(); });
})();
