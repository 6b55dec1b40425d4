/** `n` in upper-case hex, at least `digits` digits, as the datasheets print registers. */
export const hex = (n: number, digits: number): string => n.toString(16).toUpperCase().padStart(digits, '0');

/** A size in bytes as people read it: 512 bytes, 12.3 KB, 4.56 MB (powers of 1000, as file managers show). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toPrecision(3)} ${units[unit]}`;
}

/** "1 attempt", "2 attempts", "12,000 events". */
export const count = (n: number, noun: string): string => `${n.toLocaleString('en-US')} ${n === 1 ? noun : `${noun}s`}`;
