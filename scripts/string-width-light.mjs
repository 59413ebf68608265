// Display width of help text: ANSI colour codes take no room, wide (CJK) characters take two.
const ANSI = /\u001b\[[0-9;]*m/g;
export default function stringWidth(text) {
  let width = 0;
  for (const ch of String(text).replace(ANSI, '')) {
    const c = ch.codePointAt(0);
    if (c < 32 || (c >= 0x7f && c < 0xa0) || (c >= 0x300 && c < 0x370)) continue;
    width +=
      c >= 0x1100 &&
      (c <= 0x115f ||
        (c >= 0x2e80 && c <= 0xa4cf) ||
        (c >= 0xac00 && c <= 0xd7a3) ||
        (c >= 0xf900 && c <= 0xfaff) ||
        (c >= 0xff00 && c <= 0xff60) ||
        (c >= 0x1f300 && c <= 0x1faff))
        ? 2
        : 1;
  }
  return width;
}
