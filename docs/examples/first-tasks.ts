// The task types of the application and the payload each takes, shared by producer and worker.
export type Tasks = {
  "send-welcome-email": { to: string; name: string };
};

// What each handler returns (optional: a type left out returns unknown).
export type Results = {
  "send-welcome-email": { messageId: string };
};
