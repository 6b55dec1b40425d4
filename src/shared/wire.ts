import { z } from 'zod';
import { ApiErrorBody } from './api';

// Framing of API calls on the web host's WebSocket. The channel and request are
// validated again by the dispatcher; this only checks the frame itself.

export const MAX_FRAME_BYTES = 1024 * 1024;

export const WireRequest = z.strictObject({
  id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  channel: z.string().max(64),
  request: z.unknown(),
});
export type WireRequest = z.infer<typeof WireRequest>;

export const WireResponse = z.strictObject({
  /** null when the frame was too broken to carry an id. */
  id: z.number().int().nullable(),
  result: z.union([
    z.strictObject({ ok: z.literal(true), value: z.unknown() }),
    z.strictObject({ ok: z.literal(false), error: ApiErrorBody }),
  ]),
});
export type WireResponse = z.infer<typeof WireResponse>;

/** An event main pushes on the socket (a run's stops and states); it has no id. */
export const WireEvent = z.strictObject({
  event: z.string().max(64),
  payload: z.unknown(),
});
export type WireEvent = z.infer<typeof WireEvent>;
