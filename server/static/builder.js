// Form builder (staff console): show only the settings that fit each field's type, ask before
// removing a field, offer a condition's value from the chosen field's options, and reorder the
// fields without a page load — top-level fields and those inside a repeating group — by dragging
// the ⠿ handle or with the 上へ / 下へ buttons (keyboard). The new order is posted to the server (CSRF token included),
// which checks it and keeps it in the draft. Without JavaScript every setting stays visible and
// the same buttons reorder through the server.
(function () {
  "use strict";
  function sync(box) {
    var select = box.querySelector(":scope > .builder-grid .js-type");
    if (!select) return;
    var type = select.value;
    box.querySelectorAll(":scope > .js-for, :scope > .builder-grid > .js-for").forEach(function (el) {
      el.hidden = el.getAttribute("data-for").split(" ").indexOf(type) < 0;
    });
  }
  document.querySelectorAll(".builder-field").forEach(function (box) {
    sync(box);
    var select = box.querySelector(":scope > .builder-grid .js-type");
    if (select) select.addEventListener("change", function () { sync(box); });
  });
  document.querySelectorAll(".js-confirm").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.textContent + "してよろしいですか。")) event.preventDefault();
    });
  });

  var list = document.getElementById("fields");
  var form = document.getElementById("builder");
  var status = document.getElementById("order-status");
  if (!list || !form) return;
  var CONDITION_TYPES = ["text", "textarea", "kana", "number", "date", "email", "tel", "postal_code",
    "address", "select", "radio", "checkbox", "corporate_number"];

  function boxes() { return Array.prototype.slice.call(list.querySelectorAll(":scope > .builder-field")); }
  function say(text, bad) {
    status.textContent = text;
    status.hidden = false;
    status.className = bad ? "notice error" : "notice ok";
  }
  function info(box) {
    var get = function (attr) {
      var el = box.querySelector(":scope > .builder-grid [name$='." + attr + "']");
      return el ? el.value.trim() : "";
    };
    return { name: get("name"), label: get("label"), type: get("type") };
  }

  // Give a field at position i (top level, or inside a repeating group) its new index in every
  // name, id, label and button.
  var LEVELS = {
    top: { name: /^(fields\.)\d+(?=\.|$)/, id: /(^|\s)(fields-)\d+(?=-|\s|$)/g, act: /^(\w+:)\d+(?=$|[.:])/, shown: /(項目)\d+/ },
    child: {
      name: /^(fields\.\d+\.fields\.)\d+(?=\.|$)/, id: /(^|\s)(fields-\d+-fields-)\d+(?=-|\s|$)/g,
      act: /^(\w+:\d+\.)\d+(?=$|[.:])/, shown: /(項目\d+-)\d+/
    }
  };
  function renumber(box, i, level) {
    var re = LEVELS[level];
    [box].concat(Array.prototype.slice.call(box.querySelectorAll("*"))).forEach(function (el) {
      if (el.name && re.name.test(el.name)) el.name = el.name.replace(re.name, "$1" + i);
      ["id", "for", "aria-describedby", "href"].forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v && v.indexOf("fields-") >= 0) el.setAttribute(attr, v.replace(re.id, "$1$2" + i));
      });
      if (el.tagName === "BUTTON" && re.act.test(el.value)) {
        el.value = el.value.replace(re.act, "$1" + i);
        el.textContent = el.textContent.replace(re.shown, "$1" + (i + 1));
      }
      if (el.tagName === "LEGEND") el.textContent = el.textContent.replace(re.shown, "$1" + (i + 1));
    });
  }

  // Conditions may only look at earlier fields: rebuild each condition's list of fields.
  function refreshConditions() {
    var tops = boxes().map(info);
    form.querySelectorAll("select[name$='.field']").forEach(function (select) {
      var m = /^fields\.(\d+)\.(?:fields\.(\d+)\.)?(vis|req)\.\d+\.field$/.exec(select.name);
      if (!m) return;
      var i = +m[1], cands = tops.slice(0, i).map(function (f) { return [f, ""]; });
      if (m[2] !== undefined) {
        var group = boxes()[i], kids = group.querySelectorAll(":scope > .children > .builder-field");
        var gl = tops[i].label;
        for (var j = 0; j < +m[2]; j++) cands.push([info(kids[j]), gl + "の"]);
      }
      var chosen = select.value, first = select.options[0].cloneNode(true), found = chosen === "";
      select.textContent = "";
      select.appendChild(first);
      cands.forEach(function (c) {
        var f = c[0];
        if (!f.name || CONDITION_TYPES.indexOf(f.type) < 0) return;
        var o = new Option(c[1] + (f.label || f.name) + "（" + f.name + "）", f.name, false, f.name === chosen);
        if (f.name === chosen) found = true;
        select.appendChild(o);
      });
      if (!found) select.appendChild(new Option("（見つからない項目: " + chosen + "）", chosen, false, true));
    });
  }

  // 住所・所在地 / 名称 targets: the top-level fields of a type that fits the field's own type
  // (postal code → 住所 fields; 法人番号 → text and 住所 fields), following renames and moves.
  var TARGETS = { postal_code: ["address"], corporate_number: ["text", "textarea", "address"] };
  function refreshTargets() {
    var tops = boxes().map(info);
    form.querySelectorAll("select.js-target").forEach(function (select) {
      var box = select.closest(".builder-field"), own = info(box).type;
      var kinds = /name_field$/.test(select.name) ? TARGETS.corporate_number : (TARGETS[own] || ["address"]);
      var chosen = select.value, first = select.options[0].cloneNode(true), found = chosen === "";
      select.textContent = "";
      select.appendChild(first);
      tops.forEach(function (f) {
        if (!f.name || kinds.indexOf(f.type) < 0) return;
        if (f.name === chosen) found = true;
        select.appendChild(new Option((f.label || f.name) + "（" + f.name + "）", f.name, false, f.name === chosen));
      });
      if (!found) select.appendChild(new Option("（見つからない項目: " + chosen + "）", chosen, false, true));
    });
  }

  // Offer only the operators that fit the type of the field a condition row looks at (the server
  // checks the same: builder.ops_for).
  function opsFor(type) {
    if (type === "checkbox") return ["contains", "filled"];
    if (type === "number" || type === "date") return ["eq", "ne", "gt", "lt", "filled"];
    return ["eq", "ne", "filled"];
  }
  function typeOf(name) {
    var found = "";
    form.querySelectorAll(".builder-field").forEach(function (box) {
      var f = info(box);
      if (name && f.name === name) found = f.type;
    });
    return found;
  }
  function narrow(select) {
    var op = select.closest(".cond-row").querySelector("select[name$='.op']");
    var type = typeOf(select.value), allowed = type ? opsFor(type) : null;
    Array.prototype.forEach.call(op.options, function (o) { o.disabled = !!allowed && allowed.indexOf(o.value) < 0; });
    if (op.selectedOptions[0] && op.selectedOptions[0].disabled) op.value = allowed[0];
  }
  function narrowAll() {
    form.querySelectorAll(".cond-row select[name$='.field']").forEach(function (select) {
      narrow(select);
      valueControl(select);
    });
  }

  // The value of a condition row: a pick-list of the chosen field's options when it is a select,
  // radio or checkbox (the JSON Logic underneath is the same), a text input otherwise.
  function optionsOf(name) {
    var pairs = null;
    form.querySelectorAll(".builder-field").forEach(function (box) {
      var f = info(box);
      if (!name || f.name !== name || ["select", "radio", "checkbox"].indexOf(f.type) < 0) return;
      var area = box.querySelector(":scope > .js-for textarea[name$='.options']");
      pairs = [];
      (area ? area.value : "").split("\n").slice(0, 100).forEach(function (line) {
        var at = line.indexOf(":"), value = (at < 0 ? line : line.slice(0, at)).trim();
        var label = (at < 0 ? line : line.slice(at + 1)).trim();
        if (value && label) pairs.push([value, label]);
      });
    });
    return pairs && pairs.length ? pairs : null;
  }
  function valueControl(fieldSelect) {
    var old = fieldSelect.closest(".cond-row").querySelector(".cond-value");
    if (!old) return;
    var pairs = optionsOf(fieldSelect.value), current = old.value;
    if (pairs && old.tagName === "SELECT") {
      // Drawn by the server as a list: the new field's options in the same list.
      var values = pairs.map(function (p) { return p[0]; });
      old.textContent = "";
      if (!current) old.appendChild(new Option("（選んでください）", "", true, true));
      pairs.forEach(function (p) { old.appendChild(new Option(p[1] + "（" + p[0] + "）", p[0], false, p[0] === current)); });
      if (current && values.indexOf(current) < 0) old.appendChild(new Option("（選択肢にない値: " + current + "）", current, false, true));
      return;
    }
    if (pairs) {
      // A typed value: its options as the input's suggestion list (pick one or type).
      var id = old.id + "-choices", list = document.getElementById(id);
      if (!list) { list = document.createElement("datalist"); list.id = id; old.after(list); }
      list.textContent = "";
      pairs.forEach(function (p) { list.appendChild(new Option(p[1], p[0])); });
      old.setAttribute("list", id);
      return;
    }
    if (old.tagName === "INPUT") { old.removeAttribute("list"); return; }
    var el = document.createElement("input");
    el.maxLength = 200;
    el.value = current;
    ["id", "name", "aria-invalid", "aria-describedby"].forEach(function (attr) {
      if (old.hasAttribute(attr)) el.setAttribute(attr, old.getAttribute(attr));
    });
    el.className = "cond-value";
    old.replaceWith(el);
  }
  form.querySelectorAll(".cond-refresh").forEach(function (b) { b.hidden = true; });
  form.addEventListener("change", function (event) {
    var t = event.target;
    if (t.matches && t.matches(".cond-row select[name$='.field']")) { narrow(t); valueControl(t); }
    else if (t.matches && t.matches("textarea[name$='.options']")) narrowAll();
    else if (t.matches && t.matches(".js-type, .builder-grid [name$='.name'], .builder-grid [name$='.label']")) {
      refreshConditions(); refreshTargets(); narrowAll();
    }
  });
  narrowAll();

  function itemsOf(container) {
    return Array.prototype.slice.call(container.querySelectorAll(":scope > .builder-field"));
  }
  // After a move inside ``container`` (the top-level list or a group's children): renumber, set
  // the 上へ / 下へ buttons, refresh the condition lists, tell where it went and post the order.
  function save(moved, container) {
    var all = itemsOf(container), top = container === list;
    all.forEach(function (box, i) {
      renumber(box, i, top ? "top" : "child");
      box.querySelector(":scope > .row-actions [data-move='-1']").disabled = i === 0;
      box.querySelector(":scope > .row-actions [data-move='1']").disabled = i === all.length - 1;
    });
    refreshConditions();
    narrowAll();
    var owner = top ? null : container.closest(".builder-field");
    var where = owner ? "「" + (info(owner).label || info(owner).name) + "」の中の" : "";
    var what = "項目「" + (info(moved).label || info(moved).name) + "」を" + where + (all.indexOf(moved) + 1) + "番目に移動しました。";
    var url = list.getAttribute("data-order-url");
    if (!url) { say(what + "保存すると並び順も保存されます。"); return; }
    var body = new URLSearchParams();
    body.append("csrf", form.querySelector("input[name=csrf]").value);
    body.append("base", list.getAttribute("data-base"));
    if (owner) body.append("group", info(owner).name);
    all.forEach(function (box) { body.append("order", info(box).name); });
    fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().catch(function () { return { ok: false, message: "" }; }); })
      .then(function (j) {
        if (j.ok) { list.setAttribute("data-base", j.base); say(what + j.message); return; }
        say(what + "下書きへの保存はできませんでした: " + (j.message || "画面を読み込み直してください。") +
          "（画面上の並び順は「下書き保存」で保存できます）", true);
      })
      .catch(function () { say(what + "通信できませんでした。「下書き保存」で保存してください。", true); });
  }

  // Keyboard (and pointer): 上へ / 下へ move the field here instead of reloading the page — at the
  // top level and inside a repeating group alike.
  list.addEventListener("click", function (event) {
    var button = event.target.closest(".js-move");
    if (!button) return;
    var box = button.closest(".builder-field"), container = box.parentNode;
    event.preventDefault();
    var all = itemsOf(container), i = all.indexOf(box), step = +button.getAttribute("data-move");
    var target = all[i + step];
    if (!target) return;
    container.insertBefore(box, step < 0 ? target : target.nextSibling);
    save(box, container);
    var same = box.querySelector(":scope > .row-actions [data-move='" + step + "']");
    (same.disabled ? box.querySelector(":scope > .row-actions [data-move='" + -step + "']") : same).focus();
  });

  // Drag and drop by the ⠿ handle (HTML5 drag and drop), within the list the field is in: the
  // top-level fields among themselves, a group's fields inside their group.
  var dragged = null;
  function clearMarks() {
    form.querySelectorAll(".drop-before, .drop-after").forEach(function (b) { b.classList.remove("drop-before", "drop-after"); });
  }
  list.querySelectorAll(".builder-field").forEach(function (box) {
    var handle = document.createElement("span");
    handle.className = "drag-handle";
    handle.draggable = true;
    handle.setAttribute("aria-hidden", "true");
    handle.title = "ドラッグして項目を移動";
    handle.textContent = "⠿ 移動";
    box.querySelector(":scope > legend").after(handle);
    handle.addEventListener("dragstart", function (event) {
      event.stopPropagation();
      dragged = box;
      box.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", info(box).name);
    });
    handle.addEventListener("dragend", function () {
      box.classList.remove("dragging");
      dragged = null;
      clearMarks();
    });
  });
  function spot(event) {
    if (!dragged) return null;
    var home = dragged.parentNode;
    var box = event.target.closest && event.target.closest(".builder-field");
    while (box && box.parentNode !== home) box = box.parentNode.closest(".builder-field");
    if (!box || box === dragged) return null;
    var rect = box.getBoundingClientRect();
    return { box: box, after: event.clientY > rect.top + rect.height / 2 };
  }
  list.addEventListener("dragover", function (event) {
    var at = spot(event);
    clearMarks();
    if (!at) return;
    event.preventDefault();
    at.box.classList.add(at.after ? "drop-after" : "drop-before");
  });
  list.addEventListener("drop", function (event) {
    var at = spot(event);
    if (!at) return;
    event.preventDefault();
    var box = dragged, container = box.parentNode;
    container.insertBefore(box, at.after ? at.box.nextSibling : at.box);
    box.classList.remove("dragging");
    clearMarks();
    save(box, container);
  });
})();
