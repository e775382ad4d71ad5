/// The report page's style sheet (inline in the page: no external resources).
extension HTMLRenderer {
    static let css = """
        :root{--ink:#1d2433;--muted:#5b6477;--line:#dfe3ea;--bg:#f5f7fa;--accent:#2458a6}
        *{box-sizing:border-box}
        body{margin:0;color:var(--ink);background:#fff;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
        main{max-width:1040px;margin:0 auto;padding:28px 28px 56px}
        header.top{border-bottom:3px solid var(--accent);padding-bottom:14px;margin-bottom:22px}
        .kicker{margin:0;color:var(--accent);font-weight:600;text-transform:uppercase;letter-spacing:.08em;font-size:12px}
        h1{font-size:28px;margin:2px 0 10px;line-height:1.2}
        .scope{margin:0 0 10px;font-size:15px}
        h2{font-size:20px;margin:36px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}
        h3{font-size:16px;margin:22px 0 6px}
        .tag{font-size:15px;background:var(--bg);border:1px solid var(--line);border-radius:4px;padding:2px 8px;vertical-align:middle}
        dl.meta{display:grid;grid-template-columns:repeat(4,auto);gap:4px 24px;margin:0;font-size:13px;color:var(--muted)}
        dl.meta div.wide{grid-column:1/-1}
        dl.meta dt{font-weight:600;display:inline;margin-right:6px}
        dl.meta dd{display:inline;margin:0}
        .cards{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin:8px 0 4px}
        .card{border:1px solid var(--line);border-left:4px solid var(--accent);border-radius:6px;padding:12px 14px;background:var(--bg)}
        .card .label{font-size:13px;color:var(--muted);font-weight:600}
        .card .big{font-size:30px;font-weight:700;line-height:1.2}
        .card .sub{font-size:12.5px;color:var(--muted)}
        ul.headlines{padding-left:20px;margin:6px 0}
        ul.headlines li{margin:4px 0}
        table{border-collapse:collapse;width:100%;font-size:13.5px;margin:6px 0 14px}
        table.narrow{width:auto;min-width:50%}
        th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
        th{background:var(--bg);font-weight:600;font-size:12.5px}
        .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
        .muted,.note{color:var(--muted)}
        .small{font-size:12px}
        th.group{text-align:center;border-bottom:1px solid #c9d0db}
        th.reason{font-weight:500;color:var(--muted);font-size:11.5px;cursor:help}
        td.lo{color:var(--muted);font-size:12.5px}
        table.figures td,table.figures th{padding:4px 5px}
        table.figures{font-size:13px}
        table.figures td:first-child,.nowrap{white-space:nowrap}
        td.tagname{word-break:break-all;max-width:220px}
        .note{font-size:13px;margin:4px 0 8px}
        code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
        td.mono{word-break:break-all}
        td code{color:var(--muted)}
        table.detail td{font-size:12px}
        svg.chart{display:block;margin:6px 0 10px;max-width:100%;height:auto}
        svg.mini{vertical-align:middle}
        svg .track{fill:#e8ecf2}
        svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;fill:#1d2433}
        svg .lg{font-size:12px}
        svg .vl{font-size:10px;text-anchor:middle;fill:#5b6477}
        svg .gl{font-size:12px;text-anchor:middle;font-weight:600}
        svg .ax{font-size:11px;text-anchor:end;fill:#5b6477}
        svg .ax2{font-size:10.5px;fill:#5b6477}
        svg .tick{fill:#5b6477}
        svg .axbreak{stroke:#9aa3b2;stroke-width:1.5;fill:none}
        svg .bl{font-size:12px;text-anchor:end}
        svg .bv{font-size:12px;fill:#5b6477}
        svg .grid{stroke:#e3e7ee;stroke-width:1}
        svg .base{stroke:#9aa3b2;stroke-width:1}
        .cols{display:grid;grid-template-columns:1fr 1fr;gap:24px}
        .cols table.narrow{width:100%}
        td.up{color:#2f8f5b;font-weight:600}
        td.down{color:#b8483e;font-weight:600}
        .rule{border:1px solid var(--line);border-radius:6px;padding:4px 16px 10px;margin:10px 0}
        .rule dl{margin:0;font-size:14px}
        .rule dt{font-weight:600;margin-top:6px}
        .rule dd{margin:0 0 0 0}
        footer{margin-top:40px;font-size:12px;color:var(--muted);border-top:1px solid var(--line);padding-top:8px}
        @media (max-width:760px){.cards{grid-template-columns:1fr 1fr}.cols{grid-template-columns:1fr}dl.meta{grid-template-columns:1fr 1fr}}
        @media print{
          main{max-width:none;padding:0}
          body{font-size:11pt;-webkit-print-color-adjust:exact;print-color-adjust:exact}
          h2{break-after:avoid}
          tr,.card,svg,.rule,section#chart{break-inside:avoid}
          section{break-inside:auto}
        }
        """
}
