export * from './clients';
export * from './launcher';
export * from './scenario';
