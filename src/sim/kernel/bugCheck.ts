// A bug check stops the run the way a blue screen stops Windows: a code, its name, four
// parameters, and here also the driver source line that caused it. The kernel throws a
// BugCheck to unwind out of whatever it was doing (a nested routine, a port access, an
// event); the session catches it once at the top and reports it.

export const BUGCHECK = {
  IRQL_NOT_LESS_OR_EQUAL: 0x0a,
  KMODE_EXCEPTION_NOT_HANDLED: 0x1e,
  TARGET_MDL_TOO_SMALL: 0x40,
  MULTIPLE_IRP_COMPLETE_REQUESTS: 0x44,
  NO_PAGES_AVAILABLE: 0x4d,
  PAGE_FAULT_IN_NONPAGED_AREA: 0x50,
  UNEXPECTED_KERNEL_MODE_TRAP: 0x7f,
  DRIVER_IRQL_NOT_LESS_OR_EQUAL: 0xd1,
  DRIVER_VERIFIER_DETECTED_VIOLATION: 0xc4,
  BAD_POOL_CALLER: 0xc2,
  DRIVER_VERIFIER_DMA_VIOLATION: 0xe6,
  DPC_WATCHDOG_VIOLATION: 0x133,
  IRQL_UNEXPECTED_VALUE: 0xc8,
  INVALID_DATA_ACCESS_TRAP: 0x04,
  DRIVER_RETURNED_HOLDING_CANCEL_LOCK: 0xcb,
  MANUALLY_INITIATED_CRASH: 0xe2,
  KERNEL_SECURITY_CHECK_FAILURE: 0x139,
  /** Not a Windows code: the host stopped a driver the interrupt hook could not (wall-clock backstop). */
  SYSTEM_THREAD_EXCEPTION_NOT_HANDLED: 0x7e,
} as const;

export type BugCheckName = keyof typeof BUGCHECK;

export function bugCheckName(code: number): string {
  for (const [name, value] of Object.entries(BUGCHECK)) if (value === code) return name;
  return `0x${code.toString(16).toUpperCase()}`;
}

export interface BugCheckReport {
  code: number;
  name: string;
  parameters: [number, number, number, number];
  message: string;
  /** The driver's TypeScript line, or null when no driver code was running. */
  line: number | null;
}

export class BugCheck extends Error {
  constructor(readonly report: BugCheckReport) {
    super(`*** STOP 0x${report.code.toString(16).toUpperCase().padStart(8, '0')} (${report.name}): ${report.message}`);
    this.name = 'BugCheck';
  }
}

export function isBugCheck(e: unknown): e is BugCheck {
  return e instanceof BugCheck;
}
