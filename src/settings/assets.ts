// The pages' only stylesheet and script, served by the Worker itself (no CDN, no web font), so they work offline.
// The script is progressive enhancement: every page works without it.

export const STYLESHEET = `
:root{--fg:#1d2330;--muted:#5b6474;--line:#dde1e7;--bg:#f6f7f9;--card:#fff;--accent:#1456c2;--accent-fg:#fff;
--ok:#0a7d32;--ok-bg:#e7f6ec;--bad:#b3261e;--bad-bg:#fdecea;--warn:#7a4b00;--warn-bg:#fff4d6;--focus:#ffbf47;
color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.skip{position:absolute;left:-999px;top:0;background:var(--card);padding:.5rem 1rem;z-index:2}
.skip:focus{left:.5rem}
header.top{background:#111827;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between}
header.top a{color:#fff}
header.top .brand{font-weight:700;text-decoration:none}
header.top form{margin:0}
header.top .who{color:#cbd2dc;font-size:.9rem}
nav.crumbs{font-size:.9rem;color:var(--muted);margin:0 0 .5rem}
nav.crumbs ol{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem}
nav.crumbs li+li::before{content:"›";margin-right:.25rem}
main{max-width:72rem;margin:0 auto;padding:1rem}
main.wide{max-width:80rem}
.page-head{margin:0 0 1rem}
.page-head h1{margin:.25rem 0}
main:focus{outline:none}
h1{font-size:1.6rem;margin:.25rem 0 1rem;overflow-wrap:anywhere}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem;overflow-wrap:anywhere}
nav.crumbs li{overflow-wrap:anywhere;min-width:0}
.card>h2:first-child,.card>h1:first-child,.card>p:first-child{margin-top:0}
.narrow{max-width:38rem;margin:1.5rem auto}
.meta{margin:.25rem 0 .5rem}
.gap-top{margin-top:.75rem}
.row>label{margin:0}
#since{max-width:16rem}
td pre{margin:0;max-height:8rem}
.quota h2{margin:0;font-size:1rem}
.error-summary h2{margin:0 0 .25rem;font-size:1.05rem}
.error-summary p{margin:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;margin:0 0 1rem}
.muted{color:var(--muted)}
.row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.spread{justify-content:space-between}
.button,button{display:inline-flex;align-items:center;gap:.25rem;font:inherit;font-size:.95rem;line-height:1.2;padding:.5rem .85rem;border-radius:6px;
border:1px solid var(--line);background:var(--card);color:var(--fg);cursor:pointer;text-decoration:none;min-height:2.5rem}
.button.primary,button.primary{background:var(--accent);border-color:var(--accent);color:var(--accent-fg)}
.button.danger,button.danger{background:var(--bad);border-color:var(--bad);color:#fff}
button.link{border:0;background:none;color:var(--accent);text-decoration:underline;padding:.5rem .25rem;min-height:0}
.actions{display:flex;flex-wrap:wrap;gap:.35rem}
.actions form{margin:0}
.actions .button,.actions button{font-size:.85rem;padding:.35rem .6rem;min-height:2.25rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:.6rem .5rem;border-bottom:1px solid var(--line)}
th{font-size:.85rem;color:var(--muted);font-weight:600}
td.url{overflow-wrap:anywhere;max-width:22rem}
.one-line{display:block;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
@media (min-width:761px){
  table.webhooks td{white-space:nowrap}
  table.webhooks td.url{width:100%;max-width:0;overflow-wrap:normal}
  table.webhooks td.events .one-line{max-width:11rem}
  table.webhooks .actions{flex-wrap:nowrap}
}
.health{white-space:nowrap;font-size:.9rem}
.health.good{color:var(--ok)}
.health.poor{color:var(--bad)}
details.menu{position:relative}
details.menu>summary{list-style:none}
details.menu>summary::-webkit-details-marker{display:none}
details.menu>summary::after{content:"▾" / "";margin-left:.15rem}
.menu-items{position:absolute;right:0;top:calc(100% + .25rem);z-index:3;display:flex;flex-direction:column;gap:.35rem;padding:.4rem;
background:var(--card);border:1px solid var(--line);border-radius:8px;box-shadow:0 4px 14px rgba(0,0,0,.12)}
ul.plain{list-style:none;margin:0;padding:0}
.events li{font-size:.9rem}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em}
pre{background:#f0f2f5;border:1px solid var(--line);border-radius:6px;padding:.75rem;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere}
.badge{display:inline-block;border-radius:999px;padding:.1rem .6rem;font-size:.85rem;font-weight:600;white-space:nowrap}
.badge.ok,.badge.delivered{background:var(--ok-bg);color:var(--ok)}
.badge.off,.badge.dropped{background:var(--bad-bg);color:var(--bad)}
.badge.pending{background:#e8f0fe;color:#1a4fa0}
.badge.skipped{background:var(--warn-bg);color:var(--warn)}
.badge.test{background:#eee;color:#444}
.badge.failed{background:var(--warn-bg);color:var(--warn)}
.waiting{color:var(--warn);font-size:.9rem}
form.search label{margin:0}
form.search input[type=search]{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;width:36ch;max-width:100%}
dl.alert-types dt{font-weight:600}
dl.alert-types dd{margin:0 0 .6rem}
details.example>summary{cursor:pointer;color:var(--accent)}
.flash,.banner,.error-summary{border-radius:8px;padding:.75rem 1rem;margin:0 0 1rem;border:1px solid}
.flash.success{background:var(--ok-bg);border-color:#9fd3b0;color:#0b4d22}
.flash.error,.error-summary{background:var(--bad-bg);border-color:#f1b3ae;color:#7d1a14}
.flash.warning{background:var(--warn-bg);border-color:#f0cf7a;color:#4d3000;overflow-wrap:anywhere}
.trace-id{overflow-wrap:anywhere}
.banner{background:var(--warn-bg);border-color:#f0cf7a;color:#4d3000}
.banner h2{margin:0 0 .25rem;font-size:1.1rem}
.banner p{margin:.25rem 0}
.quota{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}
.quota meter{width:14rem;max-width:100%;height:1.1rem}
label,legend{font-weight:600;display:block;margin:0 0 .25rem}
fieldset{border:1px solid var(--line);border-radius:8px;padding:.75rem 1rem;margin:0 0 1rem}
.field{margin:0 0 1rem}
.hint{color:var(--muted);font-size:.9rem;margin:.1rem 0 .35rem}
input[type=text],input[type=search],input[type=url],input[type=email],input[type=password],input[type=datetime-local],select,textarea{font:inherit;width:100%;max-width:40rem;
padding:.5rem .6rem;border:1px solid #9aa3b2;border-radius:6px;background:#fff;color:var(--fg);min-height:2.5rem}
select{width:auto}
textarea{min-height:4.5rem}
[aria-invalid=true]{border-color:var(--bad);box-shadow:0 0 0 1px var(--bad)}
.field-error{color:var(--bad);font-weight:600;margin:.25rem 0}
.checks{display:grid;grid-template-columns:repeat(auto-fill,minmax(18rem,1fr));gap:.5rem 1rem}
.check{display:flex;gap:.5rem;align-items:flex-start;padding:.4rem;border-radius:6px}
.check:hover{background:#f3f5f8}
.check input{margin-top:.3rem;width:1.1rem;height:1.1rem;flex:none}
.check label{font-weight:600;margin:0}
.check .hint{margin:0}
.secret{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.secret input{font-family:ui-monospace,monospace;max-width:34rem}
.button.danger-outline{color:#b42318;border-color:#e4a7a1}
.warning{border-left:4px solid #d97706;background:#fffbeb;padding:.5rem .75rem;border-radius:4px}
figure.chart{margin:.75rem 0 .5rem;max-width:48rem}
.chart-plot{display:grid;grid-template-columns:auto 1fr;column-gap:.5rem;padding-top:.5rem}
.y-axis{position:relative;height:140px;min-width:2ch;font-size:.8rem;color:var(--muted)}
.y-axis span{position:absolute;right:0;line-height:1;transform:translateY(-50%)}
.y-axis span:nth-child(1){top:0}
.y-axis span:nth-child(2){top:50%}
.y-axis span:nth-child(3){top:100%}
svg.chart{width:100%;height:140px;display:block}
svg.chart rect.ok{fill:#15803d}
svg.chart rect.bad{fill:#b42318}
svg.chart .axis{stroke:#6b7280}
svg.chart .grid{stroke:#e5e7eb}
.x-axis{grid-column:2;display:flex;justify-content:space-between;font-size:.8rem;color:var(--muted);padding-top:.2rem}
.legend{display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;font-size:.9rem;margin-top:.5rem}
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.35rem;vertical-align:-.05rem}
.swatch.ok{background:#15803d}
.swatch.bad{background:#b42318}
.chart-empty{border:1px dashed #9aa3b2;border-radius:6px;padding:2rem 1rem;margin:.75rem 0 .5rem;text-align:center;color:var(--muted)}
dl.figures{display:flex;flex-wrap:wrap;gap:.5rem 2rem;margin:.5rem 0}
dl.figures dt{color:var(--muted);font-size:.85rem}
dl.figures dd{margin:0;font-weight:600}
pre.payload{max-height:24rem;overflow:auto}
table.headers th{text-align:left;padding-right:1rem;vertical-align:top}
table.headers code,.key{word-break:break-all}
details.advanced{border:1px solid var(--line);border-radius:8px;padding:.5rem 1rem;margin:0 0 1rem}
details.advanced>summary{cursor:pointer;font-weight:600;padding:.25rem 0}
details.advanced[open]>summary{margin-bottom:.5rem}
details.delivery{border:1px solid var(--line);border-radius:8px;background:var(--card);margin:0 0 .5rem}
details.delivery>summary{cursor:pointer;padding:.6rem .75rem;display:flex;flex-wrap:wrap;gap:.25rem .75rem;align-items:center;list-style:none}
details.delivery>summary::-webkit-details-marker{display:none}
details.delivery>summary::before{content:"▸" / "";display:inline-block;width:1rem;text-align:center;font-size:1.1rem;line-height:1;color:var(--muted)}
details.delivery[open]>summary::before{transform:rotate(90deg)}
details.delivery>div{padding:0 .75rem .75rem}
.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end}
.filters .field{margin:0}
.pager{display:flex;gap:1rem;margin:1rem 0}
.empty{text-align:center;padding:2rem 1rem}
.empty p{max-width:36rem;margin:.5rem auto 1rem}
@media (max-width:760px){
  main{padding:.75rem}
  table.webhooks thead{position:absolute;left:-9999px}
  table.webhooks,table.webhooks tbody,table.webhooks tr,table.webhooks td{display:block;width:100%}
  table.webhooks tr{background:var(--card);border:1px solid var(--line);border-radius:8px;margin:0 0 .75rem;padding:.25rem .5rem}
  table.webhooks td{border:0;padding:.35rem 0;max-width:none}
  table.webhooks .one-line{white-space:normal;overflow-wrap:anywhere}
  .menu-items{position:static;box-shadow:none;border:0;padding:.35rem 0 0;flex-direction:row;flex-wrap:wrap}
  .page-head{align-items:flex-start}
  table.webhooks td::before{content:attr(data-label);display:block;font-size:.8rem;color:var(--muted);font-weight:600}
  table.attempts thead{display:none}
  table.attempts tr{display:block;border-bottom:1px solid var(--line);padding:.25rem 0}
  table.attempts td{display:inline-block;border:0;padding:.15rem .5rem .15rem 0}
  table.attempts td::before{content:attr(data-label) ": ";font-size:.8rem;color:var(--muted);font-weight:600}
}
`;

export const SCRIPT = `
(function(){
  // Copy buttons: hidden without script, since they need it.
  document.querySelectorAll("[data-copy]").forEach(function(button){
    button.hidden = false;
    button.addEventListener("click", function(){
      var field = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById(button.getAttribute("data-copy") + "-status");
      var done = function(text){ if (status) status.textContent = text; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function(){ done("Copied to the clipboard."); }, function(){ field.select(); done("Selected: press Ctrl+C to copy."); });
      } else { field.select(); done("Selected: press Ctrl+C to copy."); }
    });
  });
  // After a refused form, take keyboard and screen-reader users straight to what went wrong.
  var summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
  // Pressing a form button twice would send the action twice.
  document.querySelectorAll("form[method=post]").forEach(function(form){
    form.addEventListener("submit", function(){
      setTimeout(function(){ form.querySelectorAll("button").forEach(function(b){ b.disabled = true; }); }, 0);
    });
  });
  // The pending log's reload, which the reader can stop; held off while a row is open or a field has focus.
  var refresh = document.querySelector("[data-refresh]");
  if (refresh) {
    var seconds = Number(refresh.getAttribute("data-refresh")) * 1000;
    var timer;
    var later = function(){ timer = setTimeout(function(){
      var busy = document.querySelector("details.delivery[open]") || (document.activeElement && document.activeElement.matches("input,select,textarea"));
      if (busy) later(); else location.reload();
    }, seconds); };
    refresh.hidden = false;
    refresh.querySelector("button").addEventListener("click", function(){ clearTimeout(timer); refresh.textContent = "Reloading stopped: reload the page to see new attempts."; });
    later();
  }
  // A "More" menu closes on Escape (focus back on it) and on a click elsewhere, as menus do; without script it is a plain disclosure.
  document.addEventListener("keydown", function(e){
    if (e.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function(menu){ menu.open = false; menu.querySelector("summary").focus(); });
  });
  document.addEventListener("click", function(e){
    document.querySelectorAll("details.menu[open]").forEach(function(menu){ if (!menu.contains(e.target)) menu.open = false; });
  });
  window.addEventListener("pageshow", function(){
    document.querySelectorAll("form[method=post] button").forEach(function(b){ b.disabled = false; });
  });
})();
`;
