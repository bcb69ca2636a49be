import {
  errAlreadyExists,
  errFailedPrecondition,
  errInvalidArgument,
  errNotFound,
} from "@containerd-ts/errdefs/errors.js";

// runc's messages, word for word where clients match on them (go-runc, the runc shim).
export const errNotExist = () => errNotFound("container does not exist");
export const errExist = () => errAlreadyExists("container with given ID already exists");
export const errNotRunning = () => errFailedPrecondition("container not running");
export const errBadId = (id: string) => errInvalidArgument(`invalid id format: ${id}`);

const ID = /^[\w+\-.]+$/;
export function checkId(id: string | undefined): string {
  if (!id) throw errInvalidArgument("container id cannot be empty");
  if (!ID.test(id) || id === "." || id === "..") throw errBadId(id);
  return id;
}
