// Sidequest with its SQLite backend. It cannot be installed from the npm registry at present: the
// only published @sidequest/sqlite-backend (1.16.5) depends on @sidequest/core 1.16.5, which is not
// published (the newest is 1.16.4), so pnpm stops with ERR_PNPM_NO_MATCHING_VERSION. (Every
// sidequest version also declares Node >= 22.6; sidequest 1.16.4 itself does load on Node 20.)
// The variant still tries to load both packages, so it reports what actually happens here.
import { NotRun } from "../measure.js";

const PACKAGES = ["sidequest", "@sidequest/sqlite-backend"];

export const NOT_INSTALLABLE =
  "cannot be installed: @sidequest/sqlite-backend 1.16.5, its only published version, depends on @sidequest/core 1.16.5, which is not published (newest 1.16.4)";

/** Every Sidequest variant: loads the packages, and says why it cannot run. */
export async function sidequestVariant(): Promise<never> {
  for (const name of PACKAGES) {
    try {
      await import(name);
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).message;
      throw new NotRun(`${NOT_INSTALLABLE}; loading ${name}: ${code}`);
    }
  }
  throw new NotRun(`the packages load, but this bench has no Sidequest driver yet (Node ${process.version})`);
}
