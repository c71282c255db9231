// Making a rename durable is core's (fsyncDirectory): flushed on POSIX systems, nothing to do on
// Windows, where NTFS journals the rename itself.
export { fsyncDirectory as syncDirectory } from "@queue/core";
