// The widget's stylesheet, injected into its shadow root (host CSS never reaches in,
// this never leaks out). Contrast: every text/background pair is at least 4.5:1.
export const CSS = `
:host{all:initial}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
.root{--accent:#2449b5;--accent-dark:#1b3886;--ink:#1d2433;--muted:#555f72;--line:#d6dbe4;--soft:#f0f3f8;--bg:#fff;--danger:#a3261b;
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);-webkit-font-smoothing:antialiased}
button,textarea{font:inherit;color:inherit}
button{cursor:pointer}
:focus{outline:none}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.head :focus-visible{outline-color:#fff}
.launcher:focus-visible{outline-offset:3px;box-shadow:0 0 0 3px #fff,0 6px 20px rgba(16,24,40,.28)}
.sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;border:0;background:var(--accent);color:#fff;display:grid;place-items:center;box-shadow:0 6px 20px rgba(16,24,40,.28);transition:transform .15s ease,background .15s}
.launcher:hover{background:var(--accent-dark);transform:scale(1.05)}
.launcher svg{width:28px;height:28px}
.launcher svg path{fill:currentColor}
.launcher .i-close path{fill:none;stroke:currentColor;stroke-width:2.4;stroke-linecap:round}
.launcher .i-close,.launcher[aria-expanded=true] .i-chat{display:none}
.launcher[aria-expanded=true] .i-close{display:block}
.badge{position:absolute;top:-2px;inset-inline-end:-2px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#c4271b;color:#fff;font-size:12px;font-weight:700;line-height:22px;text-align:center}
.panel{position:fixed;right:20px;bottom:92px;z-index:2147483001;width:370px;height:560px;max-height:calc(100vh - 112px);display:flex;flex-direction:column;background:var(--bg);border-radius:16px;overflow:hidden;box-shadow:0 12px 48px rgba(16,24,40,.3);border:1px solid var(--line)}
.head{display:flex;align-items:flex-start;gap:8px;padding-block:14px 12px;padding-inline:18px 12px;background:var(--accent);color:#fff}
.logo{flex:none;width:34px;height:34px;border-radius:8px;object-fit:contain;background:#fff}
.head-text{flex:1;min-width:0}
.title{margin:0;font-size:17px;font-weight:650;line-height:1.3;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.status{margin:2px 0 0;font-size:13px;color:#fff;display:flex;align-items:center;gap:6px}
.status::before{content:"";width:8px;height:8px;border-radius:50%;background:#7ee2a8;flex:none}
.status[data-conn=down]::before,.status[data-conn=connecting]::before{background:#ffcf5c}
.status[data-ended]::before{background:#c9d2e6}
.head-btn{flex:none;border:1px solid rgba(255,255,255,.55);background:transparent;color:#fff;border-radius:8px;padding:5px 10px;font-size:13px;font-weight:600}
.head-btn:hover{background:rgba(255,255,255,.16)}
.x{width:34px;height:34px;padding:0;display:grid;place-items:center;border:0}
.x svg{width:20px;height:20px}
.x svg path{fill:none;stroke:currentColor;stroke-width:2.2;stroke-linecap:round}
.queue{margin:0;padding:10px 16px;background:#fff6db;color:#5a4300;font-size:14px;border-bottom:1px solid #f0dfa6}
.leave{margin:0;padding:10px 16px 12px;display:flex;flex-direction:column;gap:6px;border-bottom:1px solid var(--line)}
.leave label{font-size:13px;font-weight:600}
.leave textarea{width:100%;resize:vertical;min-height:64px;padding:8px 10px;border:1.5px solid var(--line);border-radius:10px;line-height:1.4}
.leave textarea:focus-visible{outline:none;border-color:var(--accent);box-shadow:0 0 0 3px rgba(36,73,181,.25)}
.leave .primary{align-self:flex-end}
.log:focus-visible{outline-offset:-3px}
.log{flex:1;min-height:120px;overflow-y:auto;padding:16px 14px 8px;display:flex;flex-direction:column;gap:10px;overscroll-behavior:contain}
.msg{max-width:82%;display:flex;flex-direction:column;gap:2px}
.msg .name{font-size:12px;font-weight:600;color:var(--muted);padding:0 4px}
.msg .text{padding:9px 13px;border-radius:16px;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word}
.msg[data-role=customer]{align-self:flex-end;align-items:flex-end}
.msg[data-role=customer] .text{background:var(--accent);color:#fff;border-end-end-radius:5px}
.msg[data-role=assistant],.msg[data-role=agent],.msg[data-role=supervisor]{align-self:flex-start}
.msg[data-role=assistant] .text,.msg[data-role=agent] .text,.msg[data-role=supervisor] .text{background:var(--soft);border-end-start-radius:5px}
.msg .text a{color:inherit;text-decoration:underline;text-underline-offset:2px}
.msg[data-role=agent] .text{background:#e7f4ec}
.msg[data-role=system]{align-self:center;max-width:92%;text-align:center}
.msg[data-role=system] .text{padding:2px 8px;font-size:13px;color:var(--muted)}
.msg[data-pending] .text{opacity:.6}
.msg .state{font-size:11px;color:var(--muted);padding:0 4px}
.notice{align-self:center;max-width:92%;text-align:center;font-size:12.5px;color:var(--danger);background:#fdeeee;border-radius:8px;padding:4px 10px}
.typing{margin:0;padding:0 18px 6px;font-size:13px;color:var(--muted);font-style:italic;min-height:0}
.actions{display:flex;flex-wrap:wrap;gap:8px;padding:4px 14px 10px}
.chip{border:1.5px solid var(--accent);background:#fff;color:var(--accent);border-radius:18px;padding:5px 13px;font-size:14px;font-weight:500}
.chip:hover{background:#eef2fc}
.chip.person{background:var(--accent);color:#fff}
.chip.person:hover{background:var(--accent-dark)}
.chip:disabled{opacity:.6;cursor:default}
.composer{display:flex;align-items:flex-end;gap:8px;padding:10px 12px 12px;border-top:1px solid var(--line)}
.composer textarea{flex:1;resize:none;min-height:42px;max-height:120px;padding:10px 12px;border:1.5px solid var(--line);border-radius:12px;background:#fff;line-height:1.4}
.composer textarea:focus-visible{outline:none;border-color:var(--accent);box-shadow:0 0 0 3px rgba(36,73,181,.25)}
.send{flex:none;width:42px;height:42px;border:0;border-radius:12px;background:var(--accent);color:#fff;display:grid;place-items:center}
.send:hover{background:var(--accent-dark)}
.send svg{width:20px;height:20px}
.send svg path{fill:currentColor}
.csat{margin:0;padding:14px 16px;border-top:1px solid var(--line);display:flex;flex-direction:column;gap:10px}
.csat .q{font-weight:600}
.scores{display:flex;gap:6px}
.score{flex:1;height:42px;border:1.5px solid var(--line);border-radius:10px;background:#fff;font-weight:600}
.score:hover{border-color:var(--accent)}
.score[aria-checked=true]{background:var(--accent);border-color:var(--accent);color:#fff}
.scale{display:flex;justify-content:space-between;font-size:12px;color:var(--muted);margin-top:-4px}
.csat label{font-size:13px;font-weight:600}
.csat textarea{width:100%;resize:vertical;min-height:56px;padding:8px 10px;border:1.5px solid var(--line);border-radius:10px}
.primary{border:0;border-radius:10px;background:var(--accent);color:#fff;padding:10px 14px;font-weight:600}
.primary:hover{background:var(--accent-dark)}
.primary:disabled{background:#8d9bbf;cursor:default}
.thanks{margin:0;padding:14px 16px;border-top:1px solid var(--line);text-align:center;font-weight:600;color:#1d6b3c}
.restart{margin:0 16px 14px}
.call-row{padding:8px 14px 0}
.call-slot{max-height:45%;overflow-y:auto;flex:none}
.call-slot .dcs-call__remote-video{max-height:150px}
.call-slot>.dcs-call{margin:8px 12px 0}
.call-slot>.dcs-call[data-call-state=idle]:not(:has(.dcs-call__error:not([hidden]))){display:none}
.cobrowse-slot{flex:none;max-height:50%;overflow-y:auto}
.root[data-position=left] .launcher{right:auto;left:20px}
.root[data-position=left] .panel{right:auto;left:20px}
.launcher--text{width:auto;min-width:60px;border-radius:30px;padding:0 20px 0 16px;display:flex;gap:8px;font-size:15px;font-weight:600}
.launcher--text svg{width:24px;height:24px}
.launcher--text[aria-expanded=true]{width:60px;padding:0;justify-content:center}
.confirm{display:flex;flex-wrap:wrap;align-items:center;gap:8px;padding:10px 14px;background:#fdeeee;border-bottom:1px solid #f0c9c5}
.confirm-q{margin:0;flex:1 1 auto;font-weight:600;color:#5c130c}
.confirm-actions{display:flex;gap:8px}
.confirm .primary{padding:6px 12px}
.primary.danger{background:var(--danger)}
.primary.danger:hover{background:#84200f}
@media (max-width:480px){.panel,.root[data-position=left] .panel{inset:0;width:100%;height:100%;max-height:none;border-radius:0;border:0}}
@media (prefers-reduced-motion:reduce){.launcher{transition:none}}
`;
