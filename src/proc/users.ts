import { readFileSync } from 'node:fs';

let byUid: Map<number, string> | undefined;

/** User name for a uid from /etc/passwd; the uid as text when there is none (smem does the same). */
export function userName(uid: number): string {
  if (uid < 0) return '?';
  if (!byUid) {
    byUid = new Map();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const parts = line.split(':');
        if (parts.length > 2 && parts[0]) {
          const id = Number(parts[2]);
          if (!byUid.has(id)) byUid.set(id, parts[0]);
        }
      }
    } catch {
      // No passwd file: names fall back to numbers.
    }
  }
  return byUid.get(uid) ?? String(uid);
}

/** The uid for a user name or a numeric uid given as text; undefined if unknown. */
export function uidOf(user: string): number | undefined {
  if (/^\d+$/.test(user)) return Number(user);
  userName(0);
  for (const [uid, name] of byUid ?? []) if (name === user) return uid;
  return undefined;
}
