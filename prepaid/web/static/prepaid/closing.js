// Counting the drawer: the notes and coins add up as they are typed, shown under them,
// and written into the cash total while it was left empty (the server checks both).
document.addEventListener("DOMContentLoaded", () => {
  const set = document.querySelector("fieldset.denominations");
  const total = document.querySelector("#id_counted");
  if (!set || !total) return;
  const shown = set.querySelector("[data-counted-total]");
  const decimals = Number(set.dataset.decimals || 0);
  let typedByUs = true;
  total.addEventListener("input", () => { typedByUs = total.value === ""; });
  set.addEventListener("input", () => {
    let minor = 0;
    for (const input of set.querySelectorAll("input[name^='count_']")) {
      const value = Number(input.name.slice("count_".length));
      const count = Number(input.value || 0);
      if (Number.isFinite(count) && count > 0) minor += value * count;
    }
    const text = (minor / 10 ** decimals).toFixed(decimals);
    shown.hidden = minor === 0;
    shown.querySelector("strong").textContent = text;
    if (typedByUs) total.value = minor ? text : "";
  });
});
