// The browser's time zone (e.g. "Europe/Madrid") in the hidden field of the login and
// invitation forms, so a person's first login sets the zone every date is shown in.
// Without JavaScript the field stays blank and the program's zone is used.
(function () {
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  document.querySelectorAll("input[data-browser-time-zone]").forEach((input) => {
    input.value = zone;
  });
})();
