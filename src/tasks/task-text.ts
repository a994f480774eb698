/**
 * Words a task run says: the prompt envelope of a run and the failure notices. (The summary of
 * missed runs is the scheduler's: scheduler/claim.ts.)
 */
import { escapeXml } from '../conversation/prompt.js';
import { describeSchedule } from '../schedule/describe.js';
import { scheduleOf } from '../schedule/schedule.js';
import { formatWallTime } from '../schedule/time-zone.js';
import type { TaskRunTrigger } from '../store/task-runs.js';
import type { TaskRecord } from '../store/tasks.js';

/** A prompt cut to one short line, for notices. */
export function shortPrompt(prompt: string, max = 60): string {
  const flat = prompt.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * The first input of a task run: tells the agent this is a scheduled task (nobody is waiting
 * in the chat), when it was due and where its reply goes, then the task's prompt. Escaped.
 */
export function taskPrompt(
  task: TaskRecord,
  run: { scheduledFor: number; trigger: TaskRunTrigger; chatId: string },
): string {
  const attrs = [
    `id="${escapeXml(task.id)}"`,
    `schedule="${escapeXml(describeSchedule(scheduleOf(task)))}"`,
    `due="${escapeXml(`${formatWallTime(task.timezone, run.scheduledFor)} ${task.timezone}`)}"`,
    `trigger="${run.trigger}"`,
    `chat="${escapeXml(run.chatId)}"`,
  ];
  const why =
    run.trigger === 'manual'
      ? 'The owner asked for this run now.'
      : run.trigger === 'catch-up'
        ? 'This run is late: the host was not running when it was due.'
        : 'It is running at its scheduled time.';
  return [
    `<scheduled_task ${attrs.join(' ')}>`,
    `This is a scheduled task, not a live message: nobody is waiting for an answer. ${why}`,
    `Do what it asks. Your reply is sent to ${escapeXml(run.chatId)}; reply with nothing if there is nothing worth sending.`,
    '<prompt>',
    escapeXml(task.prompt),
    '</prompt>',
    '</scheduled_task>',
  ].join('\n');
}

export function failedNotice(task: TaskRecord, attempts: number, error: string): string {
  return (
    `⚠️ Scheduled task ${task.id} in group "${task.group}" (${describeSchedule(scheduleOf(task))}: ` +
    `"${shortPrompt(task.prompt)}") failed${attempts > 1 ? ` ${attempts} times` : ''}. ` +
    `Last error: ${error}. History: clawpod tasks history ${task.id}`
  );
}

export function chatFailedNotice(task: TaskRecord, error: string): string {
  return `⚠️ The scheduled task "${shortPrompt(task.prompt)}" (${task.id}) failed: ${error}. The owner has been told.`;
}

export function pausedNotice(task: TaskRecord, failures: number): string {
  return (
    `⏸️ Scheduled task ${task.id} in group "${task.group}" was paused after ${failures} ` +
    `consecutive failures. Fix the cause, then resume it: clawpod tasks resume ${task.id}`
  );
}
