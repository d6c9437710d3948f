/* Pheu page-view tracking. Paste on every page of your website:
 *   <script async src="https://crm.example.vn/scoring/track.js" data-pheu="https://crm.example.vn/scoring/t/pageview/"></script>
 * Keeps an anonymous visitor id in the first-party cookie "pheu_vid" (1 year) and sends each page view
 * (location.href) to Pheu. Pheu's web-to-lead form copies the cookie into its hidden "visitor_id" field,
 * so the visitor's page views become the new lead's. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-pheu]");
  var endpoint = (script && script.getAttribute("data-pheu")) || "{{ endpoint|escapejs }}";
  var name = "pheu_vid";

  function readCookie() {
    var match = document.cookie.match(/(?:^|; )pheu_vid=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  var visitor = readCookie();
  if (!visitor) { visitor = newId(); }
  // Renewed on every page: the id lives a year after the last visit.
  document.cookie = name + "=" + encodeURIComponent(visitor) + "; path=/; max-age=31536000; SameSite=Lax" +
    (location.protocol === "https:" ? "; Secure" : "");

  function send() {
    var body = new URLSearchParams({ url: location.href, visitor_id: visitor });
    if (window.pheuEmail) { body.append("email", String(window.pheuEmail)); }
    if (navigator.sendBeacon && navigator.sendBeacon(endpoint, body)) { return; }
    if (window.fetch) { fetch(endpoint, { method: "POST", body: body, mode: "cors", credentials: "omit", keepalive: true }); }
  }

  send();
  // Single-page sites: count each new address pushed into the history.
  var last = location.href;
  window.addEventListener("popstate", function () { if (location.href !== last) { last = location.href; send(); } });
  ["pushState", "replaceState"].forEach(function (method) {
    var original = history[method];
    if (typeof original !== "function") { return; }
    history[method] = function () {
      var result = original.apply(this, arguments);
      if (method === "pushState" && location.href !== last) { last = location.href; send(); }
      return result;
    };
  });
  window.pheuVisitorId = visitor;
})();
