export * from './errors';
export * from './crypto';
