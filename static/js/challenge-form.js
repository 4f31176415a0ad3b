// Progressive help on the challenge form: show only the chosen type's details, only the
// limit fields that apply, and only the approval modes the type allows. Without
// JavaScript every field shows and the server still checks everything.
(function () {
  const type = document.getElementById("type");
  if (!type) return;
  const approval = document.getElementById("approval");
  const limitKind = document.getElementById("limit_kind");
  const approvals = JSON.parse(document.getElementById("type-approvals").textContent);
  const wrapper = (id) => document.getElementById(id)?.closest(".mb-3");

  const sync = () => {
    document.querySelectorAll(".type-config").forEach((fieldset) => {
      fieldset.hidden = fieldset.dataset.type !== type.value;
    });
    const allowed = approvals[type.value] || [];
    Array.from(approval.options).forEach((option) => {
      option.disabled = !allowed.includes(option.value);
    });
    if (!allowed.includes(approval.value) && allowed.length) approval.value = allowed[0];
    wrapper("limit_count").hidden = limitKind.value !== "times";
    wrapper("limit_period").hidden = limitKind.value !== "per_period";
  };
  type.addEventListener("change", sync);
  limitKind.addEventListener("change", sync);
  sync();
})();
