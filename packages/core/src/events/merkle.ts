/**
 * The Merkle tree of a batch of signed records (events/signature.ts signEventBatch): RFC 9162
 * (Certificate Transparency v2) §2.1, SHA-256, so one Ed25519 signature over the root stands for
 * every record of a produce request and each record carries its own inclusion path.
 *
 *   leaf hash = SHA-256(0x00 ‖ leaf bytes)      node hash = SHA-256(0x01 ‖ left ‖ right)
 *
 * The two prefixes keep a leaf from being passed off as an inner node (second preimages). Pure.
 */
import { createHash } from 'node:crypto';

/** Bytes of one hash in a path. */
export const MERKLE_HASH_BYTES = 32;

/** SHA-256(0x00 ‖ bytes). */
export function merkleLeafHash(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(bytes).digest();
}

const LEAF_PREFIX = Buffer.from([0]);
const NODE_PREFIX = Buffer.from([1]);

function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/**
 * The root of the tree over `leaves` (leaf hashes, at least one) and each leaf's inclusion path
 * (sibling hashes from the leaf up). Built level by level, a level's unpaired last node moving up
 * unchanged: the same tree as RFC 9162's recursive split at the largest power of two.
 */
export function merkleTree(leaves: readonly Buffer[]): { root: Buffer; paths: Buffer[][] } {
  if (leaves.length === 0) throw new RangeError('a Merkle tree needs at least one leaf');
  const levels: Buffer[][] = [[...leaves]];
  for (let level = levels[0] as Buffer[]; level.length > 1; ) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const right = level[i + 1];
      next.push(right === undefined ? (level[i] as Buffer) : nodeHash(level[i] as Buffer, right));
    }
    levels.push(next);
    level = next;
  }
  // A leaf's path: at each level, the sibling of the node above it, unless that node is unpaired.
  const paths = leaves.map((_, index) => {
    const path: Buffer[] = [];
    for (let l = 0; l < levels.length - 1; l++) {
      const nodes = levels[l] as Buffer[];
      const k = index >> l;
      if (k % 2 === 1 || k !== nodes.length - 1) path.push(nodes[k ^ 1] as Buffer);
    }
    return path;
  });
  return { root: (levels[levels.length - 1] as Buffer[])[0] as Buffer, paths };
}

/** A node of a tree, by level (0: the leaves) and index within its level. */
export type MerklePosition = `${number}:${number}`;

/**
 * Where `leaf` (a leaf hash) at `index` of a tree of `size` leaves leads with `path`: the root,
 * and every node the path authenticates on the way (the nodes computed and their siblings, by
 * position), or undefined when the path cannot belong to that position (index out of range, too
 * short, too long). Bottom-up like merkleTree: a level's unpaired last node moves up unchanged
 * (and keeps its position's index halved), which is RFC 9162 §2.1.3.2's verification.
 */
export function merkleWalk(
  leaf: Uint8Array,
  index: number,
  size: number,
  path: readonly Uint8Array[],
): { root: Buffer; nodes: Map<MerklePosition, Buffer> } | undefined {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return undefined;
  const nodes = new Map<MerklePosition, Buffer>();
  let r: Buffer = Buffer.from(leaf);
  let k = index;
  let count = size;
  let level = 0;
  let used = 0;
  while (count > 1) {
    nodes.set(`${level}:${k}`, r);
    if (k % 2 === 1 || k !== count - 1) {
      const p = path[used++];
      if (p === undefined || p.length !== MERKLE_HASH_BYTES) return undefined;
      const sibling = Buffer.from(p);
      nodes.set(`${level}:${k ^ 1}`, sibling);
      r = k % 2 === 1 ? nodeHash(sibling, r) : nodeHash(r, sibling);
    }
    k = Math.floor(k / 2);
    count = Math.ceil(count / 2);
    level++;
  }
  if (used !== path.length) return undefined;
  nodes.set(`${level}:0`, r);
  return { root: r, nodes };
}

/**
 * Whether `leaf` at `index` with `path` belongs to the tree of `size` leaves whose authenticated
 * nodes are `known` (what merkleWalk returned for records already verified against a signed root):
 * true or false as merkleWalk to that root would answer, undefined when no known node is reached
 * (verify against the root instead). Hashes only up to the first known node; above it, the path
 * must hold exactly the known siblings. When it belongs, the nodes it authenticated below the known
 * one join `known` (so the next record of the batch reaches one sooner) while it holds at most
 * `maxKnown`.
 */
export function merkleKnown(
  known: Map<MerklePosition, Buffer>,
  leaf: Uint8Array,
  index: number,
  size: number,
  path: readonly Uint8Array[],
  maxKnown = Infinity,
): boolean | undefined {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let r: Buffer = Buffer.from(leaf);
  let k = index;
  let count = size;
  let level = 0;
  let used = 0;
  let reached = false;
  /** Nodes computed on the way to the first known one, and their siblings: authenticated if it matches. */
  const below: [MerklePosition, Buffer][] = [];
  while (count > 1) {
    if (!reached) {
      const node = known.get(`${level}:${k}`);
      if (node !== undefined) {
        if (!node.equals(r)) return false;
        reached = true;
      } else below.push([`${level}:${k}`, r]);
    }
    if (k % 2 === 1 || k !== count - 1) {
      const p = path[used++];
      if (p === undefined || p.length !== MERKLE_HASH_BYTES) return false;
      if (reached) {
        if (!(known.get(`${level}:${k ^ 1}`)?.equals(p) ?? false)) return false;
      } else {
        below.push([`${level}:${k ^ 1}`, Buffer.from(p)]);
        r = k % 2 === 1 ? nodeHash(p, r) : nodeHash(r, p);
      }
    }
    k = Math.floor(k / 2);
    count = Math.ceil(count / 2);
    level++;
  }
  if (used !== path.length) return false;
  if (!reached) {
    const root = known.get(`${level}:0`);
    if (root === undefined || !root.equals(r)) return root === undefined ? undefined : false;
  }
  if (known.size + below.length <= maxKnown) for (const [at, hash] of below) known.set(at, hash);
  return true;
}
