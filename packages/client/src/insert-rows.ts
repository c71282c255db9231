import { type DatabaseThreadOps, type InsertedTasks, insertTaskRows, STORE_THREAD_OPS } from "@queue/core";

/** What a batch insert wrote (see the storage port's InsertedTasks). */
export type InsertedRows = InsertedTasks;

export { insertTaskRows };

/** What a database thread must serve for a client given `databaseThread`: spread it into the ops given to `serveDatabaseThread`. */
export const CLIENT_THREAD_OPS: DatabaseThreadOps = STORE_THREAD_OPS;
