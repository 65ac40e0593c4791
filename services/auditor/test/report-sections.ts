// The sections every rendered compliance report has (report/html.ts), by element id; a signed page
// adds `signature`. Shared by the renderer's unit test and the Chromium rendering test.
export const REPORT_SECTIONS = [
  'executive-summary',
  'agents',
  'resources',
  'approvals',
  'revocations',
  'denied-events',
  'attestation-matrix',
  'chain-verification',
  'data-classifications',
  'report-metadata',
] as const;
