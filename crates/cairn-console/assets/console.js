// Cairn console: progressive enhancement only. Every page works without this file.
(function () {
  "use strict";

  function on(el, ev, fn) { if (el) { el.addEventListener(ev, fn); } }

  // Region picker: switch as soon as a region is chosen with the pointer. From the keyboard
  // the arrows only move the choice (console5: the first arrow switched region); Enter, or
  // leaving the picker on another region, switches.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    var keyed = false;
    var initial = s.value;
    on(s, "mousedown", function () { keyed = false; });
    on(s, "keydown", function (e) {
      keyed = true;
      if (e.key === "Enter" && s.value !== initial) { e.preventDefault(); s.form.submit(); }
    });
    on(s, "change", function () { if (!keyed) { s.form.submit(); } });
    on(s, "blur", function () { if (keyed && s.value !== initial) { s.form.submit(); } });
  });

  // Event history: add and remove lookup attribute rows; hide unused rows.
  var rows = document.getElementById("filter-rows");
  var add = document.getElementById("add-filter");
  if (rows && add) {
    var all = Array.prototype.slice.call(rows.querySelectorAll(".filter-row"));
    var used = all.filter(function (r) { return r.querySelector("input").value !== ""; });
    all.forEach(function (r, i) {
      if (i > 0 && used.indexOf(r) < 0) { r.hidden = true; }
      var rm = r.querySelector(".remove-filter");
      if (i > 0) {
        rm.hidden = false;
        on(rm, "click", function () {
          r.querySelector("input").value = "";
          r.hidden = true;
          add.hidden = false;
        });
      }
    });
    add.hidden = false;
    on(add, "click", function () {
      var next = all.filter(function (r) { return r.hidden; })[0];
      if (next) { next.hidden = false; next.querySelector("input").focus(); }
      if (!all.some(function (r) { return r.hidden; })) { add.hidden = true; }
    });
  }

  // Event history: show the custom start/end only for a custom range.
  var range = document.getElementById("range");
  if (range) {
    var sync = function () {
      document.querySelectorAll(".custom-range").forEach(function (g) {
        g.hidden = range.value !== "custom";
      });
    };
    on(range, "change", sync);
    sync();
  }

  // Wizard: show the bucket field of the chosen storage location.
  var storage = document.querySelectorAll("input[name=storage]");
  if (storage.length) {
    var show = function () {
      var chosen = document.querySelector("input[name=storage]:checked");
      document.querySelectorAll("[data-storage]").forEach(function (d) {
        d.hidden = !chosen || d.getAttribute("data-storage") !== chosen.value;
      });
    };
    storage.forEach(function (r) { on(r, "change", show); });
    show();
  }

  // Wizard: a block marked data-show="name=value" shows while that checkbox or radio is
  // chosen (SSE-KMS key choice, CloudWatch Logs group and role).
  var shown = document.querySelectorAll("[data-show]");
  if (shown.length) {
    var showChosen = function () {
      shown.forEach(function (d) {
        var want = d.getAttribute("data-show").split("=");
        var sel = "input[name=" + want[0] + "]:checked";
        var chosen = document.querySelector(sel);
        d.hidden = !chosen || chosen.value !== want[1];
      });
    };
    document.querySelectorAll("input[type=checkbox], input[type=radio]").forEach(function (r) {
      on(r, "change", showChosen);
    });
    showChosen();
  }

  // Wizard: "Add tag" reveals one more empty row, and past the rows the page came with adds
  // one, up to the 50 tags a trail can carry.
  var tagAdd = document.getElementById("add-tag");
  var tagRows = document.getElementById("tag-rows");
  if (tagAdd && tagRows) {
    var tags = Array.prototype.slice.call(tagRows.querySelectorAll(".tag-row"));
    var firstEmpty = true;
    tags.forEach(function (r) {
      var empty = r.querySelector("input").value === "";
      if (empty && !firstEmpty) { r.hidden = true; }
      if (empty) { firstEmpty = false; }
    });
    tagAdd.hidden = false;
    on(tagAdd, "click", function () {
      var next = tags.filter(function (r) { return r.hidden; })[0];
      if (!next && tags.length < 50) {
        next = tags[tags.length - 1].cloneNode(true);
        Array.prototype.forEach.call(next.querySelectorAll("input"), function (i) { i.value = ""; });
        tagRows.appendChild(next);
        tags.push(next);
      }
      if (next) { next.hidden = false; next.querySelector("input").focus(); }
      if (tags.length >= 50 && !tags.some(function (r) { return r.hidden; })) { tagAdd.hidden = true; }
    });
  }

  // Event record: copy to the clipboard.
  document.querySelectorAll("[data-copy]").forEach(function (b) {
    if (!navigator.clipboard) { return; }
    b.hidden = false;
    on(b, "click", function () {
      var src = document.getElementById(b.getAttribute("data-copy"));
      navigator.clipboard.writeText(src.textContent).then(function () {
        b.textContent = "Copied";
      }, function () { b.textContent = "Copy failed"; });
    });
  });
})();
