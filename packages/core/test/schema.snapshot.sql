-- table queue_change_floor
CREATE TABLE queue_change_floor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);

-- table queue_maintenance
CREATE TABLE queue_maintenance (
  job TEXT PRIMARY KEY,
  last_run_at INTEGER NOT NULL,
  last_result TEXT
) STRICT, WITHOUT ROWID;

-- table queue_migrations
CREATE TABLE queue_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT;

-- table queue_pauses
CREATE TABLE queue_pauses (
  type TEXT PRIMARY KEY,
  paused_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- table task_logs
CREATE TABLE task_logs (
  id INTEGER PRIMARY KEY,
  task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  level TEXT NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
  message TEXT NOT NULL,
  details TEXT
) STRICT;

-- index task_logs_by_task
CREATE INDEX task_logs_by_task ON task_logs (task_id, id);

-- index task_logs_by_time
CREATE INDEX task_logs_by_time ON task_logs (at);

-- table tasks
CREATE TABLE tasks (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 255),
  priority INTEGER NOT NULL DEFAULT 0,
  payload TEXT NOT NULL DEFAULT 'null',
  status TEXT NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'leased', 'completed', 'dead_letter', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  max_attempts INTEGER NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
  run_after INTEGER NOT NULL,
  lease_until INTEGER,
  lease_token TEXT,
  locked_by TEXT,
  idempotency_key TEXT,
  timeout_ms INTEGER CHECK (timeout_ms IS NULL OR timeout_ms > 0),
  required_capabilities TEXT,
  cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
  error TEXT,
  result TEXT,
  progress REAL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER, trace_parent TEXT, change_seq INTEGER NOT NULL DEFAULT 0,
  CHECK ((status = 'leased') = (lease_token IS NOT NULL AND lease_until IS NOT NULL))
) STRICT;

-- table tasks_archive
CREATE TABLE tasks_archive (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  priority INTEGER NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('completed', 'dead_letter', 'cancelled')),
  attempts INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  run_after INTEGER NOT NULL,
  idempotency_key TEXT,
  timeout_ms INTEGER,
  required_capabilities TEXT,
  error TEXT,
  result TEXT,
  progress REAL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  logs TEXT,
  archived_at INTEGER NOT NULL
) STRICT;

-- index tasks_archive_by_archived_at
CREATE INDEX tasks_archive_by_archived_at ON tasks_archive (archived_at);

-- index tasks_by_change
CREATE INDEX tasks_by_change ON tasks (change_seq, id);

-- index tasks_dead_letter_by_type
CREATE INDEX tasks_dead_letter_by_type ON tasks (type) WHERE status = 'dead_letter';

-- index tasks_finished_by_time
CREATE INDEX tasks_finished_by_time ON tasks (status, finished_at) WHERE finished_at IS NOT NULL;

-- index tasks_idempotency_key
CREATE UNIQUE INDEX tasks_idempotency_key ON tasks (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- index tasks_leased_by_expiry
CREATE INDEX tasks_leased_by_expiry ON tasks (lease_until) WHERE status = 'leased';

-- index tasks_queued_by_priority
CREATE INDEX tasks_queued_by_priority ON tasks (priority, run_after, id) WHERE status = 'queued';

-- index tasks_queued_by_run_after
CREATE INDEX tasks_queued_by_run_after ON tasks (run_after, id, type) WHERE status = 'queued';

-- table workers
CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid INTEGER NOT NULL,
  capabilities TEXT NOT NULL DEFAULT '[]',
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
) STRICT;

-- index workers_by_heartbeat
CREATE INDEX workers_by_heartbeat ON workers (heartbeat_at);
