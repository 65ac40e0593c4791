// A signature verification thread of the auditor (verify-pool.ts): answers each batch of Ed25519
// verifications with one byte per signature, 1 when it verifies. It decides nothing else: which
// key, which bytes and what a result means are the consumer thread's (core prepareEventSignature).
//
// Protocol: in `{id, sigs (n × 64 bytes), pks (n × 32 bytes), msgs (the messages, concatenated),
// ends (Uint32Array: where each message ends)}`; out `{id, valid: Uint8Array(n)}`, or `{id, error}`.
import { parentPort } from 'node:worker_threads';
// The crypto module alone (not all of @authority/core: policy parsing, envelopes, … are not needed here).
import { cryptoReady, ed25519Verify } from '@authority/core/dist/src/crypto';

export interface VerifyRequest {
  id: number;
  sigs: Uint8Array;
  pks: Uint8Array;
  msgs: Uint8Array;
  ends: Uint32Array;
}

export type VerifyAnswer = { id: number; valid: Uint8Array } | { id: number; error: string };

const port = parentPort;
if (port === null) throw new Error('verify-worker runs as a worker thread');
const ready = cryptoReady();

port.on('message', (req: VerifyRequest) => {
  void ready
    .then(() => {
      const n = req.ends.length;
      const valid = new Uint8Array(n);
      let start = 0;
      for (let i = 0; i < n; i++) {
        const end = req.ends[i]!;
        const ok = ed25519Verify(
          req.sigs.subarray(i * 64, i * 64 + 64),
          req.msgs.subarray(start, end),
          req.pks.subarray(i * 32, i * 32 + 32),
        );
        valid[i] = ok ? 1 : 0;
        start = end;
      }
      port.postMessage({ id: req.id, valid } satisfies VerifyAnswer, [valid.buffer]);
    })
    .catch((err: unknown) => port.postMessage({ id: req.id, error: String(err) } satisfies VerifyAnswer));
});
