// Original file: proto/authority/v1/auditor.proto


export interface ListAuditorKeysRequest {
}

export interface ListAuditorKeysRequest__Output {
}
