// The site's branding: a brand colour (hex), a logo (an http(s) image URL), the launcher's
// corner and an optional text on it. The widget checks the colour's contrast with its white
// text (WCAG 2.x, at least 4.5:1) and darkens a colour that falls short, rather than ship
// unreadable buttons; the console of the browser says so.
const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
export const MIN_CONTRAST = 4.5;

function channels(hex) {
  let v = hex.slice(1);
  if (v.length === 3) v = [...v].map((c) => c + c).join("");
  return [0, 2, 4].map((i) => parseInt(v.slice(i, i + 2), 16));
}

function toHex(rgb) {
  return `#${rgb.map((c) => Math.round(c).toString(16).padStart(2, "0")).join("")}`;
}

function luminance(rgb) {
  const [r, g, b] = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

// the contrast ratio of `hex` with white
export function contrastWithWhite(hex) {
  return 1.05 / (luminance(channels(hex)) + 0.05);
}

// {accent, accentDark, adjusted}: the brand colour (darkened until white text on it reads)
export function brandColours(given) {
  if (typeof given !== "string" || !HEX.test(given.trim())) return null;
  let rgb = channels(given.trim());
  let adjusted = false;
  for (let i = 0; i < 40 && contrastWithWhite(toHex(rgb)) < MIN_CONTRAST; i += 1) {
    rgb = rgb.map((c) => c * 0.92);
    adjusted = true;
  }
  return { accent: toHex(rgb), accentDark: toHex(rgb.map((c) => c * 0.8)), adjusted };
}

export function safeImageUrl(url, base) {
  if (typeof url !== "string" || !url.trim()) return null;
  try {
    const parsed = new URL(url.trim(), base);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch (_) {
    return null;
  }
}

// sets the theme on the widget's root element (CSS custom properties + data attributes)
export function applyTheme(root, theme) {
  const colours = brandColours(theme.brandColor);
  if (theme.brandColor && !colours) console.warn(`[DCS] data-brand-color must be a hex colour like #0a7d5a, not ${JSON.stringify(theme.brandColor)}.`);
  if (colours) {
    if (colours.adjusted) {
      console.warn(`[DCS] the brand colour ${theme.brandColor} is too light for white text (contrast below ${MIN_CONTRAST}:1); using ${colours.accent}.`);
    }
    root.style.setProperty("--accent", colours.accent);
    root.style.setProperty("--accent-dark", colours.accentDark);
    root.setAttribute("data-brand", colours.accent);
  }
  const side = theme.position || (root.getAttribute("dir") === "rtl" ? "left" : "right");
  root.setAttribute("data-position", side);
}
