import { errInvalidArgument } from "@containerd-ts/errdefs";
import { checkIdentifier } from "../identifiers.js";

/**
 * A topic is "/" followed by identifier components: /containers/create, /tasks/exit.
 * Errors carry containerd's wording (`envelope topic "x": must start with '/': invalid argument`).
 */
export function validateTopic(topic: string): string {
  const context = `envelope topic ${JSON.stringify(topic)}: `;
  const invalid = (msg: string) => errInvalidArgument(`${context}${msg}: invalid argument`);
  if (topic === "") throw invalid("must not be empty");
  if (!topic.startsWith("/")) throw invalid("must start with '/'");
  if (topic.length === 1) throw invalid("must have at least one component");
  for (const component of topic.slice(1).split("/"))
    checkIdentifier(
      component,
      `${context}failed validation on component ${JSON.stringify(component)}: `,
    );
  return topic;
}
