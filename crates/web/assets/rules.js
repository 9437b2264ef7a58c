// The rules page's condition builder: nested AND / OR groups of condition rows (a field, an
// operator fitting it, a value input fitting both), sent as JSON to the API. Without it the
// form posts the JSON text area instead.
(function () {
  "use strict";
  var doc = document;
  var form = doc.getElementById("rule-form");
  var dataEl = doc.getElementById("rule-data");
  var box = doc.getElementById("rule-builder");
  if (!form || !dataEl || !box) return;
  var data = JSON.parse(dataEl.textContent);
  var T = data.t || {};
  var fields = {};
  data.fields.forEach(function (f) { fields[f.code] = f; });
  var area = form.querySelector("textarea[name=conditions]");
  var preview = doc.getElementById("rule-preview");
  var MAX_DEPTH = 4;

  function el(tag, cls, text) {
    var n = doc.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function option(sel, value, label, chosen) {
    var o = el("option", "", label);
    o.value = value;
    if (chosen) o.selected = true;
    sel.appendChild(o);
  }
  function button(cls, label, title) {
    var b = el("button", "btn small " + cls, label);
    b.type = "button";
    if (title) { b.title = title; b.setAttribute("aria-label", title); }
    return b;
  }

  // The model: groups {type: "all"|"any", items: [...]}, leaves {field, op, value}.
  function toModel(n) {
    if (n && Array.isArray(n.all)) return { type: "all", items: n.all.map(toModel) };
    if (n && Array.isArray(n.any)) return { type: "any", items: n.any.map(toModel) };
    if (n && n.field) return { field: n.field, op: n.op, value: n.value === undefined ? null : n.value };
    return { type: "all", items: [] };
  }
  function toTree(m) {
    if (m.type) {
      var o = {};
      o[m.type] = m.items.map(toTree);
      return o;
    }
    var leaf = { field: m.field, op: m.op };
    if (m.op !== "empty" && m.op !== "not_empty") leaf.value = m.value;
    return leaf;
  }
  var root = toModel(data.tree);
  if (!root.type) root = { type: "all", items: [root] };

  function at(path) {
    var node = root;
    path.forEach(function (i) { node = node.items[i]; });
    return node;
  }
  function pathKey(path) { return path.join("."); }

  // Words for the preview: "行业 等于 制造业 且 评分 大于等于 50".
  function label(list, code) {
    for (var i = 0; i < list.length; i++) if (list[i].code === code) return list[i].label;
    return code;
  }
  function words(m, top) {
    if (!m.type) {
      var f = fields[m.field];
      if (!f) return "";
      var v = m.value;
      var show = function (x) {
        if (x === true) return T.yes;
        if (x === false) return T.no;
        return typeof x === "string" ? label(f.options, x) : String(x);
      };
      v = Array.isArray(v) ? v.map(show).join(" – ") : (v === null || v === undefined ? "" : show(v));
      return (f.label + " " + label(f.ops, m.op) + " " + v).trim();
    }
    var parts = m.items.map(function (c) { return words(c, false); }).filter(Boolean);
    var s = parts.join(" " + (m.type === "all" ? T["rule-and"] : T["rule-or"]) + " ");
    return top || parts.length < 2 ? s : "(" + s + ")";
  }
  function sync() {
    area.value = JSON.stringify(toTree(root), null, 2);
    if (preview) preview.textContent = words(root, true) || T["rule-always"];
  }

  // Value inputs fitting the field's kind and the operator.
  function valueInput(f, m) {
    var wrap = el("span", "rule-value");
    if (m.op === "empty" || m.op === "not_empty") return wrap;
    var kind = f.kind, op = m.op;
    var set = function (v) { m.value = v; sync(); };
    var num = function (s) { return s === "" ? null : Number(s); };
    function input(type, value, aria, onInput) {
      var i = el("input");
      i.type = type;
      i.setAttribute("aria-label", aria);
      if (type === "number") i.step = kind === "ref" || op.indexOf("days_since") === 0 ? "1" : "any";
      if (value !== null && value !== undefined) i.value = value;
      i.addEventListener("input", function () { onInput(i.value); });
      wrap.appendChild(i);
      return i;
    }
    if (op === "between") {
      var pair = Array.isArray(m.value) ? m.value.slice(0, 2) : [null, null];
      var type = kind === "date" ? "date" : "number";
      var read = kind === "date" ? function (s) { return s || null; } : num;
      [0, 1].forEach(function (i) {
        input(type, pair[i], T[i ? "rules-value-to" : "rules-value-from"], function (s) { pair[i] = read(s); set(pair.slice()); });
      });
      return wrap;
    }
    if (kind === "select" || kind === "multi") {
      var multiple = op === "in";
      var sel = el("select");
      sel.setAttribute("aria-label", T["rules-value"]);
      var chosen = Array.isArray(m.value) ? m.value : [m.value];
      if (multiple) { sel.multiple = true; sel.size = Math.min(6, f.options.length); }
      else option(sel, "", T["rules-choose"], !m.value);
      f.options.forEach(function (o) { option(sel, o.code, o.label, chosen.indexOf(o.code) >= 0); });
      sel.addEventListener("change", function () {
        if (!multiple) { set(sel.value || null); return; }
        set([].filter.call(sel.options, function (o) { return o.selected; }).map(function (o) { return o.value; }));
      });
      wrap.appendChild(sel);
      return wrap;
    }
    if (kind === "bool") {
      var b = el("select");
      b.setAttribute("aria-label", T["rules-value"]);
      option(b, "true", T.yes, m.value !== false);
      option(b, "false", T.no, m.value === false);
      if (m.value !== false) m.value = true;
      b.addEventListener("change", function () { set(b.value === "true"); });
      wrap.appendChild(b);
      return wrap;
    }
    if (op === "in") {
      var list = Array.isArray(m.value) ? m.value.join(", ") : "";
      input("text", list, T["rules-value"], function (s) {
        var items = s.split(/[,，、]/).map(function (x) { return x.trim(); }).filter(Boolean);
        set(kind === "text" ? items : items.map(Number));
      });
      return wrap;
    }
    if (kind === "date" && (op === "before" || op === "after")) {
      input("date", m.value, T["rules-value"], function (s) { set(s || null); });
      return wrap;
    }
    var numeric = kind !== "text";
    input(numeric ? "number" : "text", m.value, T["rules-value"], function (s) { set(numeric ? num(s) : s); });
    if (op.indexOf("days_since") === 0) wrap.appendChild(el("span", "help", T["rules-days"]));
    return wrap;
  }

  function row(m, path) {
    var r = el("div", "rule-row");
    r.setAttribute("data-path", pathKey(path));
    var f = fields[m.field];
    var fs = el("select", "rule-field");
    fs.setAttribute("aria-label", T["rules-field"]);
    option(fs, "", T["rules-choose"], !f);
    data.fields.forEach(function (x) { option(fs, x.code, x.label, f && x.code === f.code); });
    fs.addEventListener("change", function () {
      var nf = fields[fs.value];
      m.field = fs.value;
      m.op = nf ? nf.ops[0].code : "";
      m.value = null;
      render(pathKey(path), ".rule-op");
    });
    r.appendChild(fs);
    if (f) {
      var ops = el("select", "rule-op");
      ops.setAttribute("aria-label", T["rules-op"]);
      f.ops.forEach(function (o) { option(ops, o.code, o.label, o.code === m.op); });
      if (!f.ops.some(function (o) { return o.code === m.op; })) m.op = f.ops[0].code;
      ops.addEventListener("change", function () {
        var was = m.op;
        m.op = ops.value;
        var shape = function (op) { return op === "between" ? 2 : op === "in" ? 1 : 0; };
        if (shape(was) !== shape(m.op) || m.op === "empty" || m.op === "not_empty" || /days_since|before|after/.test(was + m.op)) m.value = null;
        render(pathKey(path), ".rule-op");
      });
      r.appendChild(ops);
      r.appendChild(valueInput(f, m));
    }
    var rm = button("ghost rule-remove", "×", T["rules-remove-condition"]);
    rm.addEventListener("click", function () { remove(path); });
    r.appendChild(rm);
    r.appendChild(el("small", "field-error"));
    return r;
  }

  function group(g, path) {
    var depth = path.length;
    var box = el("div", "rule-group");
    box.setAttribute("role", "group");
    box.setAttribute("data-path", pathKey(path));
    var head = el("div", "rule-group-head");
    var type = el("select", "rule-match");
    type.setAttribute("aria-label", T["rules-group-match"]);
    option(type, "all", T["rules-group-all"], g.type === "all");
    option(type, "any", T["rules-group-any"], g.type === "any");
    type.addEventListener("change", function () { g.type = type.value; sync(); });
    head.appendChild(type);
    if (depth > 0) {
      var rm = button("ghost rule-remove", "×", T["rules-remove-group"]);
      rm.addEventListener("click", function () { remove(path); });
      head.appendChild(rm);
    }
    head.appendChild(el("small", "field-error"));
    box.appendChild(head);
    var items = el("div", "rule-items");
    g.items.forEach(function (c, i) {
      var p = path.concat([i]);
      items.appendChild(c.type ? group(c, p) : row(c, p));
    });
    box.appendChild(items);
    var actions = el("div", "rule-group-actions");
    var add = button("rule-add", "+ " + T["rules-add-condition"]);
    add.addEventListener("click", function () {
      g.items.push({ field: "", op: "", value: null });
      render(pathKey(path.concat([g.items.length - 1])), ".rule-field");
    });
    actions.appendChild(add);
    if (depth < MAX_DEPTH) {
      var addG = button("rule-add-group", "+ " + T["rules-add-group"]);
      addG.addEventListener("click", function () {
        g.items.push({ type: g.type === "all" ? "any" : "all", items: [{ field: "", op: "", value: null }] });
        render(pathKey(path.concat([g.items.length - 1, 0])), ".rule-field");
      });
      actions.appendChild(addG);
    }
    box.appendChild(actions);
    return box;
  }

  function remove(path) {
    var parent = at(path.slice(0, -1));
    parent.items.splice(path[path.length - 1], 1);
    render(pathKey(path.slice(0, -1)), ".rule-add");
  }

  // Draws the tree again and puts the focus on `css` inside the item at `focusPath`.
  function render(focusPath, css) {
    box.textContent = "";
    box.appendChild(group(root, []));
    sync();
    if (focusPath === undefined) return;
    var target = box.querySelector('[data-path="' + focusPath + '"]');
    var f = target && (target.querySelector(css) || target.querySelector("select, input, button"));
    if (f) f.focus();
  }

  function clearErrors() {
    form.querySelectorAll("[aria-invalid]").forEach(function (n) { n.removeAttribute("aria-invalid"); });
    form.querySelectorAll(".field-error").forEach(function (n) { n.textContent = ""; });
  }
  function showErrors(body) {
    var e = (body && body.error) || {};
    var list = e.fields || {};
    var first = null;
    Object.keys(list).forEach(function (k) {
      var target, control;
      if (k === "name" || k === "result") {
        target = doc.getElementById("error-" + k);
        control = doc.getElementById("rule-" + k);
      } else {
        var item = box.querySelector('[data-path="' + k.replace(/^conditions\.?/, "") + '"]');
        target = item ? item.querySelector(".field-error") : doc.getElementById("error-conditions");
        control = item ? item.querySelector("select, input") : null;
      }
      if (target) target.textContent = list[k];
      if (control) { control.setAttribute("aria-invalid", "true"); first = first || control; }
    });
    if (!Object.keys(list).length) doc.getElementById("error-conditions").textContent = e.message || T["rules-saving-failed"];
    if (first) first.focus();
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    clearErrors();
    var body = {
      name: form.elements.name.value,
      result: form.elements.result.value,
      active: form.elements.active.checked,
      conditions: toTree(root)
    };
    if (form.getAttribute("data-method") === "POST") body.kind = data.kind;
    var save = doc.getElementById("rule-save");
    save.disabled = true;
    fetch(form.getAttribute("data-api"), {
      method: form.getAttribute("data-method"),
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (b) { return { ok: r.ok, body: b }; });
    }).then(function (res) {
      if (res.ok) { location.href = form.getAttribute("data-return") + "&ok=flash-rules-saved"; return; }
      save.disabled = false;
      showErrors(res.body);
    }, function () {
      save.disabled = false;
      doc.getElementById("error-conditions").textContent = T["rules-saving-failed"];
    });
  });

  doc.getElementById("rule-json").hidden = true;
  box.hidden = false;
  render();
})();
