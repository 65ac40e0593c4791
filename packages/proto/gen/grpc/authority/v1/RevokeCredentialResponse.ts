// Original file: proto/authority/v1/issuer.proto


export interface RevokeCredentialResponse {
}

export interface RevokeCredentialResponse__Output {
}
