export * from './manifest.js';
export * from './profile.js';
