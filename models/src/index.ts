export * from './manifest.js';
export * from './profile.js';
export * from './ssd-anchors.js';
