export { ROLES, type Role, type StartOptions, type System, startSystem } from '@vigil/system';
