// @authority/proto: the TypeScript face of proto/authority/v1 (generated types + loaders).
export { ReasonCode } from '../gen/grpc/authority/v1/ReasonCode';
export type { ReasonCode__Output } from '../gen/grpc/authority/v1/ReasonCode';
export { Decision } from '../gen/grpc/authority/v1/Decision';
export type { Decision__Output } from '../gen/grpc/authority/v1/Decision';
