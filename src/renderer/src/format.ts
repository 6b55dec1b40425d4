/** `n` in upper-case hex, at least `digits` digits, as the datasheets print registers. */
export const hex = (n: number, digits: number): string => n.toString(16).toUpperCase().padStart(digits, '0');
