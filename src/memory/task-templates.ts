/**
 * Built-in task templates: a schedule and a fixed, tested prompt that `clawpod tasks add
 * <group> --template <name>` fills in (each can still be overridden). Opt-in: nothing is
 * scheduled unless the owner adds one.
 */
export interface TaskTemplate {
  name: string;
  /** One line for `--help` and the docs. */
  description: string;
  /** A cron expression in the task's zone. */
  cron: string;
  contextMode: 'isolated' | 'group';
  missedPolicy: 'skip' | 'latest' | 'all';
  prompt: string;
  /** A stable task id per group: adding the template twice changes nothing. */
  id(group: string): string;
}

/** The weekly memory-hygiene prompt: consolidate the memory file, show the diff. */
export const MEMORY_HYGIENE_PROMPT = `Weekly memory hygiene. Tidy your memory file so it stays short, true and useful.

1. Read your memory file in your group folder: CLAUDE.md (AGENTS.md if that is the one you use).
2. Write a consolidated version of it:
   - merge duplicates and near-duplicates into one line;
   - where two facts contradict each other, keep the newer one and drop the outdated one;
   - drop what is no longer true or useful (one-off reminders that are done, plans that passed);
   - keep every instruction the user gave about how you should behave, and keep the headings and structure the user wrote;
   - keep the dates on facts where they matter; add nothing new and change no meaning; when unsure, keep it.
3. Save it with the clawpod tool consolidate_memory, giving the complete new file as "content". Do not edit the file yourself: the tool keeps the previous version in memory/history/ and returns the diff.
4. Reply with one or two sentences on what you changed and why, then the diff the tool returned, unchanged, in a \`\`\`diff block.

If the file is already tidy, do not call the tool; reply "Memory file already tidy: no changes."`;

export const TASK_TEMPLATES: Readonly<Record<string, TaskTemplate>> = {
  'memory-hygiene': {
    name: 'memory-hygiene',
    description:
      'weekly (Monday 09:00): the agent consolidates its memory file and shows the diff; the previous version is kept in memory/history/',
    cron: '0 9 * * 1',
    contextMode: 'isolated',
    missedPolicy: 'latest',
    prompt: MEMORY_HYGIENE_PROMPT,
    id: (group) => `memory-hygiene-${group}`.slice(0, 64),
  },
};
