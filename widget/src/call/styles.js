// The call UI's stylesheet: adopted into the widget's shadow root by the call chunk, and
// written to the console as call.css by build.mjs. Every text/background pair is at least
// 4.5:1. Class names all start with .dcs-call so the console's own styles never collide.
export const CALL_CSS = `
.dcs-call{--call-accent:#2449b5;--call-ink:#1d2433;--call-muted:#555f72;--call-line:#d6dbe4;--call-ok:#1d6b3c;--call-bad:#a3261b;
display:flex;flex-direction:column;gap:8px;color:var(--call-ink);font-size:14px;line-height:1.4}
.dcs-call[data-call-state=idle] .dcs-call__bar{display:none}
.dcs-call__actions{display:flex;gap:8px;flex-wrap:wrap}
.dcs-call__btn{font:inherit;font-size:14px;font-weight:600;border-radius:8px;padding:6px 12px;border:1.5px solid var(--call-accent);background:#fff;color:var(--call-accent);cursor:pointer;line-height:1.2}
.dcs-call__btn:hover{background:#eef2fc}
.dcs-call__btn:disabled{opacity:.6;cursor:default}
.dcs-call__btn:focus-visible{outline:3px solid var(--call-accent);outline-offset:2px}
.dcs-call__accept{background:var(--call-ok);border-color:var(--call-ok);color:#fff}
.dcs-call__accept:hover{background:#165631}
.dcs-call__decline,.dcs-call__hangup{background:var(--call-bad);border-color:var(--call-bad);color:#fff}
.dcs-call__decline:hover,.dcs-call__hangup:hover{background:#84200f}
.dcs-call__toggle[data-on=true]{background:var(--call-accent);color:#fff}
.dcs-call__prompt{border:2px solid var(--call-accent);border-radius:12px;padding:10px 12px;background:#f3f6fd}
.dcs-call__prompt:focus-visible{outline:3px solid var(--call-accent);outline-offset:2px}
.dcs-call__prompt-title{margin:0;font-weight:700}
.dcs-call__prompt-desc{margin:2px 0 8px;color:var(--call-muted)}
.dcs-call__prompt-actions{display:flex;gap:8px}
.dcs-call__bar{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:8px;border:1px solid var(--call-line);border-radius:12px;padding:8px 10px;background:#f7f9fc}
.dcs-call__status{display:flex;flex-wrap:wrap;align-items:center;gap:8px;min-width:0}
.dcs-call__state{font-weight:600;display:inline-flex;align-items:center;gap:6px}
.dcs-call__state::before{content:"";width:8px;height:8px;border-radius:50%;background:#b58a00;flex:none}
.dcs-call__state[data-state=connected]::before{background:#1f9d55}
.dcs-call__state[data-state=ended]::before{background:#8a94a6}
.dcs-call__duration{font-variant-numeric:tabular-nums;color:var(--call-muted)}
.dcs-call__note{font-size:12.5px;color:var(--call-muted)}
.dcs-call__controls{display:flex;gap:6px;flex-wrap:wrap}
.dcs-call__error{margin:0;padding:6px 10px;border-radius:8px;background:#fdeeee;color:var(--call-bad);font-size:13px}
.dcs-call__media{position:relative;border-radius:12px;overflow:hidden;background:#111826;min-height:60px}
.dcs-call__remote-video{display:block;width:100%;max-height:240px;aspect-ratio:4/3;object-fit:contain;background:#111826}
.dcs-call__local-video{position:absolute;right:8px;bottom:8px;width:28%;max-width:120px;border-radius:8px;border:2px solid #fff;background:#000;transform:scaleX(-1)}
.dcs-call__remote-video[hidden]+.dcs-call__local-video{position:static;display:block;margin:8px auto;width:40%;max-width:160px}
.dcs-call[hidden],.dcs-call [hidden]{display:none!important}
.call-strip{flex:none;padding:10px 16px 0;max-height:50vh;overflow-y:auto}
.call-strip[hidden]{display:none}
@media (prefers-reduced-motion:reduce){.dcs-call *{transition:none!important}}
`;
