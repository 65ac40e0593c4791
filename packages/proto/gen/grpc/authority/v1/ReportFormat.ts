// Original file: proto/authority/v1/auditor.proto

export const ReportFormat = {
  REPORT_FORMAT_UNSPECIFIED: 'REPORT_FORMAT_UNSPECIFIED',
  HTML: 'HTML',
  JSON: 'JSON',
} as const;

export type ReportFormat =
  | 'REPORT_FORMAT_UNSPECIFIED'
  | 0
  | 'HTML'
  | 1
  | 'JSON'
  | 2

export type ReportFormat__Output = typeof ReportFormat[keyof typeof ReportFormat]
