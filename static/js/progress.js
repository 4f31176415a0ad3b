// Progress bars: each .progress-bar[data-percent] is drawn at that width. The CSP allows no
// inline style attribute, but a style set from this file (the CSSOM) is allowed. The
// numbers a reader needs are in the surrounding text and the bar's aria-valuenow.
(function () {
  document.querySelectorAll(".progress-bar[data-percent]").forEach((bar) => {
    const percent = Number.parseFloat(bar.dataset.percent);
    if (Number.isFinite(percent)) bar.style.width = `${Math.min(100, Math.max(0, percent))}%`;
  });
})();
