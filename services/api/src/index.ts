export { type AppDependencies, buildApp, CONSOLE_DIST } from './app.js';
