// Show only the details of the chosen challenge type (every fieldset stays in the page
// without JavaScript, so the form still works).
(function () {
  const type = document.getElementById("type");
  if (!type) return;
  const sync = () => {
    document.querySelectorAll(".type-config").forEach((fieldset) => {
      fieldset.hidden = fieldset.dataset.type !== type.value;
    });
  };
  type.addEventListener("change", sync);
  sync();
})();
