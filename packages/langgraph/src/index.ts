export * from './tools';
export * from './scripted-model';
export * from './agent';
