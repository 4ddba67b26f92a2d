//! The page's inline style and its one script (`GET /page.js`), which puts
//! every `<time>` in the reader's time zone.

/// The style sheet, inlined in each page.
pub(crate) const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5em;max-width:62em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}\
table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd;vertical-align:top}\
th[title]{text-decoration:underline dotted;cursor:help}\
.state{display:inline-block;padding:.2em .6em;border-radius:.3em;color:#fff}\
.downloading{background:#2a7}.waiting{background:#678}.paused{background:#c80}.error{background:#c33}\
.bar{background:#eee;width:30em;max-width:100%;height:1em;border-radius:.3em;overflow:hidden}\
.bar>div{background:#2a7;height:100%}.err{color:#c33}form{display:inline}\
#actions{margin:1em 0}button{margin-right:.3em;font-size:1em;padding:.3em .8em}.why,.ago{color:#777}.why{font-size:.9em;margin-right:1em}\
.trip{display:flex;gap:1em;align-items:flex-start;border-bottom:1px solid #ddd;padding:.5em 0}\
.trip svg{flex:none}svg.map{background:#f4f6f4;border:1px solid #ccc;max-width:100%;height:auto}\
td:first-child{white-space:nowrap}\
svg .track{fill:none;stroke:#1a6;stroke-width:2.5;stroke-linejoin:round;stroke-linecap:round}\
svg .place{fill:#48c3;stroke:#48c}svg .start{fill:#2a7}svg .end{fill:#c33}\
svg text{font-size:11px;fill:#333}";

/// `GET /page.js`: rewrites each `<time datetime>` as the reader's local
/// clock (`HH:MM`, with the day when it is not today). Same origin, so the
/// page's policy (`script-src 'self'`) allows it and nothing else.
pub(crate) const SCRIPT: &str = r#"(function () {
  var days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  var months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function local(d, now) {
    var hm = two(d.getHours()) + ":" + two(d.getMinutes());
    if (d.toDateString() === now.toDateString()) return hm;
    var day = days[d.getDay()] + " " + d.getDate() + " " + months[d.getMonth()];
    if (d.getFullYear() !== now.getFullYear()) day += " " + d.getFullYear();
    return day + " " + hm;
  }
  function run() {
    var now = new Date();
    var times = document.querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var d = new Date(times[i].getAttribute("datetime"));
      if (isNaN(d.getTime())) continue;
      times[i].textContent = local(d, now);
      times[i].title = d.toString();
      times[i].className = "local";
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
"#;
