// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Remember the browser's time zone so signed-out readers see deadlines in their own zone.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var value = zone ? encodeURIComponent(zone) : "";
    if (value && document.cookie.split("; ").indexOf("grants_tz=" + value) === -1) {
      document.cookie = "grants_tz=" + value + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* old browser: the server falls back to UTC */ }
  // Move focus to the error summary so screen readers announce it.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
