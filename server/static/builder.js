// Form builder (staff console): show only the settings that fit each field's type, and ask
// before removing a field. Without JavaScript every setting stays visible and works the same.
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
})();
