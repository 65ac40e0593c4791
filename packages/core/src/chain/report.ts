/**
 * The auditor's signature on a compliance report, bound to a signed checkpoint. The report's
 * content is hashed as canonical JSON (canonicalJson: object keys sorted, no whitespace), so any
 * verifier recomputes the same digest from the parsed report; a rendering of it (the HTML page) is
 * hashed as bytes, with its signature slot empty. Both digests and the checkpoint are signed:
 *
 *   report = str("authority.audit.report.v1") ‖ str(tenant) ‖ u64(checkpoint.seq)
 *            ‖ checkpoint.headHash(32) ‖ contentSha256(32) ‖ documentSha256(32) ‖ u64(issuedAt)
 *            ‖ str(keyId)
 *
 * For the JSON form documentSha256 equals contentSha256 (the document is the content).
 */
import { decodeBase64Url, ed25519Sign, ed25519Verify, encodeBase64Url, sha256Hex } from '../crypto';
import { AuthorityError } from '../errors';
import { FrameWriter, decodeHexHash } from './framing';
import { verifyCheckpoint, type CheckpointKeyResolver, type SignatureCheck } from './signed';

export const REPORT_TAG = 'authority.audit.report.v1';

/**
 * JSON with every object's keys sorted (UTF-16 code unit order) and no whitespace; `undefined`
 * members are dropped as JSON.stringify drops them. Throws on values JSON cannot represent
 * exactly (non-finite numbers), so two parties never hash different spellings of one report.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new AuthorityError('INVALID_REQUEST', 'canonical JSON has no non-finite numbers');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  throw new AuthorityError('INVALID_REQUEST', `canonical JSON cannot represent a ${typeof value}`);
}

/** Hex SHA-256 of a report's canonical content. */
export function reportContentSha256(content: unknown): string {
  return sha256Hex(canonicalJson(content));
}

export interface ReportSignatureClaims {
  tenant: string;
  /** The signed checkpoint the report rests on. */
  checkpoint: { seq: number; headHash: string };
  /** Hex SHA-256 of the report's canonical JSON content (without its signature). */
  contentSha256: string;
  /** Hex SHA-256 of the rendered document with its signature slot empty (= contentSha256 for JSON). */
  documentSha256: string;
  /** When the auditor signed, Unix seconds. */
  issuedAt: number;
}

export interface ReportSignature extends ReportSignatureClaims {
  keyId: string;
  /** base64url Ed25519 signature over reportSigningBytes. */
  signature: string;
}

function hash(hex: string, field: string): Buffer {
  const b = decodeHexHash(hex);
  if (b === undefined) throw new AuthorityError('INVALID_REQUEST', `${field} must be 64 lowercase hex digits`, field);
  return b;
}

/** The exact bytes a report signature covers. Throws AuthorityError(INVALID_REQUEST) on bad fields. */
export function reportSigningBytes(r: ReportSignatureClaims & { keyId: string }): Buffer {
  if (typeof r.tenant !== 'string' || r.tenant === '')
    throw new AuthorityError('INVALID_REQUEST', 'tenant must be a non-empty string', 'tenant');
  if (typeof r.keyId !== 'string' || r.keyId === '')
    throw new AuthorityError('INVALID_REQUEST', 'keyId must be a non-empty string', 'keyId');
  if (typeof r.checkpoint !== 'object' || r.checkpoint === null)
    throw new AuthorityError('INVALID_REQUEST', 'checkpoint must be {seq, headHash}', 'checkpoint');
  return new FrameWriter()
    .string(REPORT_TAG, 'tag')
    .string(r.tenant, 'tenant')
    .u64(r.checkpoint.seq, 'checkpoint.seq')
    .hash32(hash(r.checkpoint.headHash, 'checkpoint.headHash'), 'checkpoint.headHash')
    .hash32(hash(r.contentSha256, 'contentSha256'), 'contentSha256')
    .hash32(hash(r.documentSha256, 'documentSha256'), 'documentSha256')
    .u64(r.issuedAt, 'issuedAt')
    .string(r.keyId, 'keyId')
    .finish();
}

/** Signs a report's digests with the auditor's Ed25519 secret key (await cryptoReady() first). */
export function signReport(claims: ReportSignatureClaims, secretKey: Uint8Array, keyId: string): ReportSignature {
  const unsigned = {
    tenant: claims.tenant,
    checkpoint: { seq: claims.checkpoint.seq, headHash: claims.checkpoint.headHash },
    contentSha256: claims.contentSha256,
    documentSha256: claims.documentSha256,
    issuedAt: claims.issuedAt,
    keyId,
  };
  return { ...unsigned, signature: encodeBase64Url(ed25519Sign(reportSigningBytes(unsigned), secretKey)) };
}

/** Checks a report signature's fields and signature (not the digests: the caller recomputes those); never throws. */
export function verifyReportSignature(signed: ReportSignature, resolveKey: CheckpointKeyResolver): SignatureCheck {
  if (typeof signed !== 'object' || signed === null) return { ok: false, message: 'report signature is not an object' };
  let message: Buffer;
  try {
    message = reportSigningBytes(signed);
  } catch (err) {
    if (err instanceof AuthorityError) return { ok: false, message: `report signature is malformed: ${err.message}` };
    throw err;
  }
  const sig = typeof signed.signature === 'string' ? decodeBase64Url(signed.signature) : undefined;
  if (sig === undefined || sig.length !== 64)
    return { ok: false, message: 'report signature is not a base64url Ed25519 signature' };
  let key: Uint8Array | undefined;
  try {
    key = resolveKey(signed.keyId);
  } catch {
    key = undefined;
  }
  if (key === undefined) return { ok: false, message: `report is signed by unknown key '${signed.keyId}'` };
  if (!ed25519Verify(sig, message, key))
    return { ok: false, message: `report signature does not verify with key '${signed.keyId}'` };
  return { ok: true };
}

// --- Signed documents ----------------------------------------------------------------------------

/**
 * The slot at the end of an HTML report that holds its signed content: a `<template>` (inert, never
 * rendered, no script), HTML-escaped JSON `{report, signature}`. The page's digest is taken with
 * the slot empty. Report text is HTML-escaped, so the opening tag occurs in a report exactly once.
 */
export const REPORT_SIGNATURE_SLOT_OPEN = '<template id="authority-report-signature">';
export const REPORT_SIGNATURE_SLOT_CLOSE = '</template>';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const HTML_UNESCAPES: Record<string, string> = Object.fromEntries(Object.entries(HTML_ESCAPES).map(([k, v]) => [v, k]));

/** Where the slot is in an HTML report, and the page's digest with it empty; undefined when there is not exactly one. */
export function reportHtmlSlot(
  html: string,
): { start: number; end: number; inner: string; documentSha256: string } | undefined {
  const start = html.indexOf(REPORT_SIGNATURE_SLOT_OPEN);
  if (start < 0 || html.indexOf(REPORT_SIGNATURE_SLOT_OPEN, start + 1) >= 0) return undefined;
  const innerStart = start + REPORT_SIGNATURE_SLOT_OPEN.length;
  const end = html.indexOf(REPORT_SIGNATURE_SLOT_CLOSE, innerStart);
  if (end < 0) return undefined;
  return {
    start: innerStart,
    end,
    inner: html.slice(innerStart, end),
    documentSha256: sha256Hex(html.slice(0, innerStart) + html.slice(end)),
  };
}

/** Puts the signed content into an HTML report's (empty) slot. */
export function fillReportHtmlSlot(html: string, content: unknown, signature: ReportSignature): string {
  const slot = reportHtmlSlot(html);
  if (slot === undefined || slot.inner !== '')
    throw new AuthorityError('INVALID_REQUEST', 'the page has no empty signature slot');
  const json = JSON.stringify({ report: content, signature }).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
  return html.slice(0, slot.start) + json + html.slice(slot.end);
}

/** What verifying a saved report found; each check says why it failed. */
export interface ReportVerification {
  ok: boolean;
  format: 'html' | 'json';
  tenant: string;
  /** The digests: the content (and the page) are what was signed. */
  content: SignatureCheck;
  /** The auditor's signature over the digests and the checkpoint. */
  signature: SignatureCheck;
  /** The checkpoint the report is bound to: its own signature, and that it is the one signed. */
  checkpoint: SignatureCheck;
  checkpointSeq?: number;
}

const fail = (message: string): SignatureCheck => ({ ok: false, message });

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Verifies a saved report (the HTML page or the JSON form) offline with the given auditor keys:
 * its content and page digests, the auditor's signature over them, and the signed checkpoint it
 * is bound to. Never throws; a report that is not a signed report fails with a message saying so.
 */
export function verifySignedReport(text: string, resolveKey: CheckpointKeyResolver): ReportVerification {
  const isJson = /^\s*\{/.test(text);
  const format: 'html' | 'json' = isJson ? 'json' : 'html';
  const result = (
    tenant: string,
    content: SignatureCheck,
    signature: SignatureCheck,
    checkpoint: SignatureCheck,
    checkpointSeq?: number,
  ): ReportVerification => ({
    ok: content.ok && signature.ok && checkpoint.ok,
    format,
    tenant,
    content,
    signature,
    checkpoint,
    ...(checkpointSeq !== undefined ? { checkpointSeq } : {}),
  });
  const notChecked = fail('not checked');
  let report: Record<string, unknown>;
  let sig: unknown;
  let documentSha256: string;
  if (isJson) {
    const doc = parseJson(text);
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
      return result('', fail('the file is not a JSON report object'), notChecked, notChecked);
    const { signature, ...rest } = doc as Record<string, unknown>;
    report = rest;
    sig = signature;
    documentSha256 = '';
  } else {
    const slot = reportHtmlSlot(text);
    if (slot === undefined)
      return result(
        '',
        fail('the page has no signature slot (exactly one is expected): not a signed report'),
        notChecked,
        notChecked,
      );
    const payload = parseJson(slot.inner.replace(/&(amp|lt|gt|quot|#39);/g, (e) => HTML_UNESCAPES[e] as string));
    const p = payload as { report?: unknown; signature?: unknown } | undefined;
    if (typeof p !== 'object' || p === null || typeof p.report !== 'object' || p.report === null)
      return result(
        '',
        fail('the signature slot holds no signed report (it is empty or not JSON)'),
        notChecked,
        notChecked,
      );
    report = p.report as Record<string, unknown>;
    sig = p.signature;
    documentSha256 = slot.documentSha256;
  }
  const tenant = typeof report['tenant'] === 'string' ? report['tenant'] : '';
  if (typeof sig !== 'object' || sig === null)
    return result(
      tenant,
      fail('the report is not signed (no signature: the tenant had no checkpoint when it was made)'),
      notChecked,
      notChecked,
    );
  const s = sig as ReportSignature;
  let contentSha256: string;
  try {
    contentSha256 = reportContentSha256(report);
  } catch (err) {
    return result(
      tenant,
      fail(`the report content cannot be hashed: ${(err as Error).message}`),
      notChecked,
      notChecked,
    );
  }
  // The JSON form is its own content; a page is hashed as bytes.
  if (isJson) documentSha256 = contentSha256;
  const content: SignatureCheck =
    s.contentSha256 !== contentSha256
      ? fail(
          `the report content was changed after signing: its SHA-256 is ${contentSha256}, the signature covers ${String(s.contentSha256)}`,
        )
      : s.documentSha256 !== documentSha256
        ? fail(
            `the page was changed after signing: its SHA-256 (signature slot empty) is ${documentSha256}, the signature covers ${String(s.documentSha256)}`,
          )
        : { ok: true };
  const signature =
    s.tenant !== tenant
      ? fail(`the signature is for tenant '${String(s.tenant)}', the report is of '${tenant}'`)
      : verifyReportSignature(s, resolveKey);
  const cv = report['chainVerification'] as { checkpoint?: Record<string, unknown> | null } | undefined;
  const cp = cv?.checkpoint;
  let checkpoint: SignatureCheck;
  if (typeof cp !== 'object' || cp === null) checkpoint = fail('the report names no checkpoint');
  else if (cp['seq'] !== s.checkpoint?.seq || cp['headHash'] !== s.checkpoint?.headHash)
    checkpoint = fail(
      `the report's checkpoint (seq ${String(cp['seq'])}) is not the one its signature is bound to (seq ${String(s.checkpoint?.seq)})`,
    );
  else if (cp['tenant'] !== tenant)
    checkpoint = fail(`the checkpoint is of tenant '${String(cp['tenant'])}', not '${tenant}'`);
  else {
    const time = typeof cp['time'] === 'string' ? Date.parse(cp['time']) : Number.NaN;
    checkpoint = Number.isFinite(time)
      ? verifyCheckpoint(
          {
            tenant,
            seq: cp['seq'] as number,
            headHash: String(cp['headHash']),
            time: Math.floor(time / 1000),
            keyId: String(cp['keyId'] ?? ''),
            signature: String(cp['signature'] ?? ''),
          },
          resolveKey,
        )
      : fail('the checkpoint has no readable time');
  }
  return result(
    tenant,
    content,
    signature,
    checkpoint,
    typeof s.checkpoint?.seq === 'number' ? s.checkpoint.seq : undefined,
  );
}
