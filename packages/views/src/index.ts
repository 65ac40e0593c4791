export * from './key-directory';
export * from './revocation-view';
export * from './policy-view';
export * from './start';
