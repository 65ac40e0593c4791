/** Seconds since the epoch as an ISO-8601 UTC time (for messages: people read times, not epochs). */
export function isoTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? String(seconds) : d.toISOString().replace('.000Z', 'Z');
}
