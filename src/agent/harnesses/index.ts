// One line per harness. Each module registers itself when loaded; the runner loads only the one
// a run asks for, so a `command` run never pays for the Claude or Codex SDK at start.
export const harnessModules: Record<string, () => Promise<unknown>> = {
  claude: () => import('./claude.js'),
  codex: () => import('./codex.js'),
  command: () => import('./command.js'),
};

/** Loads the module of harness `name` (registering it); unknown names load nothing. */
export async function loadHarness(name: string): Promise<void> {
  await harnessModules[name]?.();
}
