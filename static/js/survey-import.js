// A survey import, chunk after chunk: the mapping form (or "Go on importing") is posted in
// the background, then /run is posted until the import is done, moving the <progress> bar
// and its "12,000 of 50,000 rows" text (aria-live). The server answers JSON to requests
// marked X-Requested-With; without this file the same forms import everything in one POST.
// An answer that is not JSON (the form refused, shown with its errors) is posted again the
// ordinary way, so the page shows it.
(function () {
  const form = document.querySelector("form[data-survey-import]");
  const panel = document.getElementById("survey-progress");
  if (!form || !panel || !window.fetch) return;
  const bar = document.getElementById("survey-progress-bar");
  const text = document.getElementById("survey-progress-text");
  const problem = document.getElementById("survey-progress-error");
  const token = form.querySelector("input[name='csrf_token']");

  const post = (url, body) =>
    fetch(url, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest", Accept: "application/json" },
    });

  const show = (progress) => {
    bar.max = Math.max(progress.total_rows, 1);
    bar.value = progress.done_rows;
    text.textContent = progress.text;
  };

  const fail = (message) => {
    problem.textContent = message;
    problem.hidden = false;
    form.querySelectorAll("button").forEach((button) => (button.disabled = false));
  };

  const runChunks = async (progress) => {
    show(progress);
    while (progress.status !== "done") {
      const body = new FormData();
      if (token) body.append("csrf_token", token.value);
      const answer = await post(progress.run_url, body);
      const said = await answer.json().catch(() => ({ error: answer.statusText }));
      if (!answer.ok) return fail(said.error || answer.statusText);
      progress = said;
      show(progress);
    }
    window.location.assign(progress.report_url);
    return undefined;
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.hidden = true;
    form.querySelectorAll("button").forEach((button) => (button.disabled = true));
    panel.hidden = false;
    try {
      const answer = await post(form.action, new FormData(form));
      const isJson = (answer.headers.get("Content-Type") || "").includes("application/json");
      if (!isJson) {
        form.submit(); // refused: the ordinary post shows the errors beside the fields
        return;
      }
      const said = await answer.json();
      if (!answer.ok) {
        fail(said.error || answer.statusText);
        return;
      }
      await runChunks(said);
    } catch (error) {
      fail(error.message || String(error));
    }
  });
})();
