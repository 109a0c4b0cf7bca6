/**
 * What a notification sink receives. Two formats: a generic JSON webhook (the signals as data, for
 * any receiver to route) and Slack-compatible incoming-webhook messages ({text, blocks}; Mattermost
 * and others accept the same). Field paths only, never values. Pure.
 */
import { apiVersion, describe, type ObjectRef } from '../k8s/object-ref.js';
import { describeOwner } from '../k8s/owner.js';
import { describeFields, describeSignal, type DriftSignal } from '../signal/signal.js';

const NOTIFICATION_SCHEMA = 'driftguard.io/notification/v1';

export interface NotificationFormat {
  /** The label in metrics and logs: `webhook` or `slack`. */
  readonly name: string;
  /** Most signals one message may carry. */
  readonly maxBatch: number;
  body(batch: readonly DriftSignal[], now: Date): unknown;
}

/** The target as notification/v1 carries it (docs/monitoring.md): apiVersion, not group and version. */
function wireTarget(t: ObjectRef): Record<string, string> {
  const out: Record<string, string> = { apiVersion: apiVersion(t), kind: t.kind, name: t.name, resource: t.resource };
  if (t.namespace !== undefined) out.namespace = t.namespace;
  if (t.uid !== undefined) out.uid = t.uid;
  if (t.subResource !== undefined) out.subResource = t.subResource;
  return out;
}

export const webhookFormat: NotificationFormat = {
  name: 'webhook',
  maxBatch: 100,
  body(batch, now) {
    return {
      schema: NOTIFICATION_SCHEMA,
      source: 'driftguard',
      sent: now.toISOString(),
      notifications: batch.map((s) => ({
        ...s,
        target: wireTarget(s.target),
        object: describe(s.target),
        ownerText: describeOwner(s.owner),
        summary: describeSignal(s),
      })),
    };
  },
};

/** Slack mrkdwn: &, < and > must be escaped; a backtick would end a code span. */
function mrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function code(text: string): string {
  return `\`${mrkdwn(text).replace(/`/g, "'")}\``;
}

/** Slack cuts section text at 3,000 characters. */
function clip(text: string, max = 2_900): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const TITLE: Record<DriftSignal['kind'], string> = {
  denied: ':no_entry: Denied',
  'break-glass': ':rotating_light: Break-glass',
  drift: ':warning: Drift',
};

export const slackFormat: NotificationFormat = {
  name: 'slack',
  // A message holds at most 50 blocks; two per signal and a header.
  maxBatch: 20,
  body(batch) {
    const counts = new Map<string, number>();
    for (const s of batch) counts.set(s.kind, (counts.get(s.kind) ?? 0) + 1);
    const tally = [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
    const text = batch.length === 1 ? `driftguard: ${describeSignal(batch[0]!)}` : `driftguard: ${tally}`;
    const blocks: unknown[] = [{ type: 'header', text: { type: 'plain_text', text: clip(`driftguard: ${tally}`, 150) } }];
    for (const s of batch) {
      const lines = [
        `*${TITLE[s.kind]}* · policy ${code(s.policy)} · *${mrkdwn(s.actor.username)}* (${s.actorClass})`,
        `${s.operation} ${code(describe(s.target))}${s.owner === undefined ? '' : ` · owned by *${mrkdwn(describeOwner(s.owner))}*`}`,
      ];
      if (s.fields.length > 0) lines.push(`Fields: ${mrkdwn(describeFields(s, 10))}`);
      if (s.breakGlass !== undefined) lines.push(`Reason: ${mrkdwn(s.breakGlass.reason)} (until ${mrkdwn(s.breakGlass.expires)})`);
      if (s.message !== undefined && s.kind !== 'break-glass') lines.push(mrkdwn(s.message));
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n')) } });
      blocks.push({
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: mrkdwn(`${s.time}${s.fieldManager === undefined ? '' : ` · field manager ${s.fieldManager}`}`) },
        ],
      });
    }
    return { text: clip(mrkdwn(text)), blocks };
  },
};
