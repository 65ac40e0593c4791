// A line diff (Myers' O((N+M)·D) algorithm) rendered as a unified diff with context.

export type DiffOp = { kind: ' ' | '-' | '+'; line: string; oldNo: number; newNo: number };

/** Line operations turning `a` into `b`. */
export function diffLines(a: readonly string[], b: readonly string[]): DiffOp[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let done = false;
  for (let d = 0; d <= max && !done; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number)))
        x = v[offset + k + 1] as number;
      else x = (v[offset + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        done = true;
        break;
      }
    }
  }
  // Backtrack.
  const ops: DiffOp[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d] as Int32Array;
    const k = x - y;
    let prevK: number;
    if (k === -d || (k !== d && (vd[offset + k - 1] as number) < (vd[offset + k + 1] as number))) prevK = k + 1;
    else prevK = k - 1;
    const prevX = d === 0 ? 0 : (vd[offset + prevK] as number);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: ' ', line: a[x - 1] as string, oldNo: x, newNo: y });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) ops.push({ kind: '+', line: b[y - 1] as string, oldNo: x, newNo: y });
      else ops.push({ kind: '-', line: a[x - 1] as string, oldNo: x, newNo: y });
    }
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
}

/** Unified diff text (empty when equal). */
export function unifiedDiff(oldText: string, newText: string, oldName: string, newName: string, context = 3): string {
  const split = (t: string) => (t === '' ? [] : t.replace(/\n$/, '').split('\n'));
  const ops = diffLines(split(oldText), split(newText));
  if (ops.every((o) => o.kind === ' ')) return '';
  const out: string[] = [`--- ${oldName}`, `+++ ${newName}`];
  let i = 0;
  while (i < ops.length) {
    if ((ops[i] as DiffOp).kind === ' ') {
      i++;
      continue;
    }
    const start = Math.max(0, i - context);
    let end = i;
    // Extend the hunk while changes are within 2*context lines of each other.
    for (;;) {
      while (end < ops.length && (ops[end] as DiffOp).kind !== ' ') end++;
      let next = end;
      while (next < ops.length && (ops[next] as DiffOp).kind === ' ' && next - end < 2 * context) next++;
      if (next < ops.length && (ops[next] as DiffOp).kind !== ' ') end = next;
      else break;
    }
    const stop = Math.min(ops.length, end + context);
    const hunk = ops.slice(start, stop);
    const oldStart = hunk.find((o) => o.kind !== '+');
    const newStart = hunk.find((o) => o.kind !== '-');
    const oldCount = hunk.filter((o) => o.kind !== '+').length;
    const newCount = hunk.filter((o) => o.kind !== '-').length;
    out.push(
      `@@ -${oldCount === 0 ? (oldStart?.oldNo ?? 0) : (oldStart?.oldNo ?? 1)},${oldCount} +${newCount === 0 ? (newStart?.newNo ?? 0) : (newStart?.newNo ?? 1)},${newCount} @@`,
    );
    for (const o of hunk) out.push(`${o.kind}${o.line}`);
    i = stop;
  }
  return `${out.join('\n')}\n`;
}
