/** Topic of each task event, keyed by its protobuf type name (containerd's runtime topics). */
const TOPICS: Readonly<Record<string, string>> = {
  "containerd.events.TaskCreate": "/tasks/create",
  "containerd.events.TaskStart": "/tasks/start",
  "containerd.events.TaskExit": "/tasks/exit",
  "containerd.events.TaskDelete": "/tasks/delete",
  "containerd.events.TaskExecAdded": "/tasks/exec-added",
  "containerd.events.TaskExecStarted": "/tasks/exec-started",
  "containerd.events.TaskPaused": "/tasks/paused",
  "containerd.events.TaskResumed": "/tasks/resumed",
  "containerd.events.TaskOOM": "/tasks/oom",
  "containerd.events.TaskCheckpointed": "/tasks/checkpointed",
};

export function topicOf(typeName: string): string {
  const topic = TOPICS[typeName];
  if (!topic) throw new Error(`no topic for event type ${typeName}`);
  return topic;
}
