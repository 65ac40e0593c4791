// The report's own signature (core chain/report.ts): the auditor signs the report's canonical
// content and, for the page, the page's bytes with the signature slot empty, bound to the signed
// checkpoint the report rests on. A report made before the tenant's first checkpoint is returned
// unsigned (`signature: null`, the page says UNSIGNED): there is nothing to bind it to, and
// `compliance verify` refuses it.
import {
  fillReportHtmlSlot,
  reportContentSha256,
  reportHtmlSlot,
  signReport,
  type ReportSignature,
} from '@authority/core';
import type { AuditorKeys } from '../keys';
import { renderComplianceHtml } from './html';
import type { ComplianceReport } from './model';

export type SignedComplianceReport = ComplianceReport & { signature: ReportSignature | null };

function sign(
  report: ComplianceReport,
  keys: Pick<AuditorKeys, 'keyId' | 'secretKey'>,
  issuedAt: number,
  documentSha256: (contentSha256: string) => string,
): ReportSignature | null {
  const cp = report.chainVerification.checkpoint;
  if (cp === null) return null;
  const contentSha256 = reportContentSha256(report);
  return signReport(
    {
      tenant: report.tenant,
      checkpoint: { seq: cp.seq, headHash: cp.headHash },
      contentSha256,
      documentSha256: documentSha256(contentSha256),
      issuedAt,
    },
    keys.secretKey(),
    keys.keyId,
  );
}

/** The JSON form: the report with its signature (over the content; the document is the content). */
export function signedReportJson(
  report: ComplianceReport,
  keys: Pick<AuditorKeys, 'keyId' | 'secretKey'>,
  now: Date,
): SignedComplianceReport {
  const signature = sign(report, keys, Math.floor(now.getTime() / 1000), (content) => content);
  return { ...report, signature };
}

/** The page, signed: rendered with the slot empty, hashed, signed, the slot filled. */
export function signedReportHtml(
  report: ComplianceReport,
  keys: Pick<AuditorKeys, 'keyId' | 'secretKey'>,
  now: Date,
): string {
  const issuedAt = Math.floor(now.getTime() / 1000);
  if (report.chainVerification.checkpoint === null) return renderComplianceHtml(report);
  const html = renderComplianceHtml(report, { keyId: keys.keyId, issuedAt });
  const slot = reportHtmlSlot(html);
  if (slot === undefined) throw new Error('the rendered report has no signature slot');
  const signature = sign(report, keys, issuedAt, () => slot.documentSha256) as ReportSignature;
  return fillReportHtmlSlot(html, report, signature);
}
