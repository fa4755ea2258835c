export { buildDefaultProfile, faceApiModelDir } from './build.js';
