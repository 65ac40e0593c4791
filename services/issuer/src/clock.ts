// The issuer's notion of now, injectable so tests can move time (key retirement, approval expiry).
export interface Clock {
  nowMs(): number;
  now(): Date;
  nowSec(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  now: () => new Date(),
  nowSec: () => Math.floor(Date.now() / 1000),
};

/** A clock offset from the system clock by a settable amount (tests). */
export class OffsetClock implements Clock {
  offsetMs = 0;
  nowMs(): number {
    return Date.now() + this.offsetMs;
  }
  now(): Date {
    return new Date(this.nowMs());
  }
  nowSec(): number {
    return Math.floor(this.nowMs() / 1000);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
