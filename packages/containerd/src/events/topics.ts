import { errInvalidArgument, validateIdentifier } from "@containerd-ts/errdefs";

/** A topic is "/" followed by identifier components: /containers/create, /tasks/exit. */
export function validateTopic(topic: string): string {
  if (topic === "") throw errInvalidArgument("topic must not be empty");
  if (!topic.startsWith("/")) throw errInvalidArgument(`topic "${topic}" must start with '/'`);
  if (topic.length === 1)
    throw errInvalidArgument(`topic "${topic}" must have at least one component`);
  for (const component of topic.slice(1).split("/"))
    validateIdentifier(component, `topic "${topic}" component`);
  return topic;
}
