/** Logging in, one's own password, and user administration. */
import { type Static, Type } from 'typebox';
import { AuthUser, Role } from './common.js';
import { DateTime, Uuid } from './schema.js';

const Username = Type.String({ minLength: 1, maxLength: 64 });
const Password = Type.String({ minLength: 1, maxLength: 256 });

/** `POST /auth/login`. */
export const LoginBody = Type.Object(
  { username: Username, password: Password },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

export const LoginResponse = Type.Object({ token: Type.String(), expiresAt: DateTime(), user: AuthUser });
export type LoginResponse = Static<typeof LoginResponse>;

/** `POST /auth/password`. */
export const PasswordChangeBody = Type.Object(
  { currentPassword: Password, newPassword: Password },
  { additionalProperties: false },
);
export type PasswordChangeBody = Static<typeof PasswordChangeBody>;

export const User = Type.Object({
  id: Uuid(),
  username: Type.String(),
  role: Role,
  disabled: Type.Boolean(),
  createdAt: DateTime(),
});
export type User = Static<typeof User>;

export const UserList = Type.Array(User);

/** `POST /users`. */
export const UserInput = Type.Object(
  { username: Username, password: Password, role: Role },
  { additionalProperties: false },
);
export type UserInput = Static<typeof UserInput>;

/** `PATCH /users/:id`: at least one field. */
export const UserChanges = Type.Object(
  { role: Type.Optional(Role), disabled: Type.Optional(Type.Boolean()), password: Type.Optional(Password) },
  { additionalProperties: false, minProperties: 1 },
);
export type UserChanges = Static<typeof UserChanges>;
