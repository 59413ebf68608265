// The two assertions yargs's platform shim uses, without loading node:assert (~5 ms at start-up).
export function strictEqual(actual, expected, message) {
  if (actual !== expected) throw new Error(message ?? `expected ${expected}, got ${actual}`);
}
export function notStrictEqual(actual, expected, message) {
  if (actual === expected) throw new Error(message ?? `expected a value other than ${expected}`);
}
export default { strictEqual, notStrictEqual };
