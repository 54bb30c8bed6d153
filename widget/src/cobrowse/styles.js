// Co-browse styles, adopted into the widget's shadow root by the chunk: the consent
// prompts (in the panel), the banner (fixed, visible with the panel closed), the agent's
// pointer and highlight. Every text/background pair is at least 4.5:1. The banner docks to
// a corner (data-corner: bottom-start, top-start, top-end, bottom-end; logical sides).
export const COBROWSE_CSS = `
.cobrowse-slot:empty{display:none}
.dcs-cb-prompt{margin:8px 12px 0;border:2px solid var(--accent,#2449b5);border-radius:12px;padding:10px 12px;background:#f3f6fd;font-size:14px;line-height:1.4}
.dcs-cb-prompt:focus-visible{outline:3px solid var(--accent,#2449b5);outline-offset:2px}
.dcs-cb-prompt__title{margin:0;font-weight:700}
.dcs-cb-prompt__desc{margin:2px 0 8px;color:#555f72}
.dcs-cb-prompt__actions{display:flex;gap:8px;flex-wrap:wrap}
.dcs-cb-btn{font:inherit;font-size:14px;font-weight:600;border-radius:8px;padding:6px 12px;border:1.5px solid var(--accent,#2449b5);background:#fff;color:var(--accent,#2449b5);cursor:pointer;line-height:1.2}
.dcs-cb-btn:hover{background:#eef2fc}
.dcs-cb-btn:disabled{opacity:.6;cursor:default}
.dcs-cb-allow{background:#1d6b3c;border-color:#1d6b3c;color:#fff}
.dcs-cb-allow:hover{background:#165631}
.dcs-cb-banner{position:fixed;bottom:20px;inset-inline-start:20px;width:max-content;max-width:min(420px,calc(100vw - 112px));z-index:2147483002;display:flex;align-items:center;gap:8px;
padding:6px 8px 6px 6px;padding-inline:6px 8px;border-radius:12px;background:#1d2433;color:#fff;font-size:13px;line-height:1.3;box-shadow:0 6px 24px rgba(16,24,40,.35)}
.dcs-cb-banner[data-corner^=top]{bottom:auto;top:20px}
.dcs-cb-banner[data-corner$=end]{inset-inline-start:auto;inset-inline-end:20px}
.dcs-cb-banner[data-corner=bottom-end]{bottom:92px}
.dcs-cb-banner__live{display:flex;align-items:center;gap:8px;min-width:0}
.dcs-cb-banner__live::before{content:"";width:10px;height:10px;border-radius:50%;background:#ff6b5e;flex:none;box-shadow:0 0 0 3px rgba(255,107,94,.3)}
.dcs-cb-move{flex:none;width:22px;height:30px;padding:0;border:0;border-radius:6px;background:transparent;cursor:grab;touch-action:none;
background-image:radial-gradient(circle,#c9d2e6 1.5px,transparent 1.6px);background-size:7px 7px;background-position:center}
.dcs-cb-move:hover{background-color:rgba(255,255,255,.12)}
.dcs-cb-move:focus-visible{outline:3px solid #fff;outline-offset:1px}
.dcs-cb-banner__text{font-weight:600}
.dcs-cb-banner .dcs-cb-btn{background:#fff;color:#1d2433;border-color:#fff;padding:4px 10px;font-size:13px}
.dcs-cb-banner .dcs-cb-btn:hover{background:#e4e8f0}
.dcs-cb-banner .dcs-cb-btn:focus-visible{outline:3px solid #fff;outline-offset:2px}
.dcs-cb-pointer{position:fixed;left:0;top:0;z-index:2147483003;pointer-events:none;display:flex;align-items:flex-start;gap:4px;transition:transform 60ms linear}
.dcs-cb-pointer__dot{width:14px;height:14px;margin:-7px 0 0 -7px;border-radius:50%;background:#c4271b;border:2px solid #fff;box-shadow:0 1px 4px rgba(0,0,0,.45)}
.dcs-cb-pointer__label{margin-top:6px;padding:1px 6px;border-radius:6px;background:#c4271b;color:#fff;font-size:12px;font-weight:600;white-space:nowrap}
.dcs-cb-pointer__label:empty{display:none}
.dcs-cb-highlight{position:fixed;left:0;top:0;z-index:2147483003;pointer-events:none;border:3px solid #c4271b;border-radius:6px;box-shadow:0 0 0 4px rgba(196,39,27,.25)}
.dcs-cb-pointer[hidden],.dcs-cb-highlight[hidden],.dcs-cb-banner[hidden],.dcs-cb-prompt[hidden]{display:none!important}
@media (max-width:480px){.dcs-cb-banner{inset-inline-start:10px;bottom:24px;max-width:calc(100vw - 100px)}
.dcs-cb-banner[data-corner$=end]{inset-inline-end:10px}
.panel:not([hidden])~.dcs-cb-banner{top:0;bottom:auto;inset-inline:0;max-width:none;width:auto;border-radius:0}
.root[data-cobrowse-banner] .panel{top:var(--dcs-cb-banner-h,44px);height:auto}}
@media (prefers-reduced-motion:reduce){.dcs-cb-pointer{transition:none}}
`;
