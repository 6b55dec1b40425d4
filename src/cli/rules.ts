import { bugCheckName } from '../sim/kernel/bugCheck';
import { bugCheckOf, RULES, type Rule } from '../sim/verifier/rules';
import { type Command, parseOptions } from './command';

// `dmalab rules`: every finding the verifier can report, with what to do instead, the WDK
// page that explains it and the bug check it raises in the bug-check mode.

export function ruleRows(): { id: string; advice: string; page: string; bugCheck: { code: number; name: string; parameter1: number | null } | null }[] {
  return Object.entries(RULES).map(([id, rule]: [string, Rule]) => {
    const stop = bugCheckOf(rule);
    return { id, advice: rule.advice, page: rule.page, bugCheck: stop && { code: stop.code, name: bugCheckName(stop.code), parameter1: rule.e6 ? stop.p1 : null } };
  });
}

export const rulesCommand: Command = {
  summary: 'list the verifier rules [--json]',
  async run(args) {
    const { values } = parseOptions(args, { json: { type: 'boolean', default: false } });
    const rows = ruleRows();
    if (values.json) console.log(JSON.stringify(rows));
    else {
      for (const r of rows) {
        const stop = r.bugCheck ? `0x${r.bugCheck.code.toString(16).toUpperCase()}${r.bugCheck.parameter1 !== null ? ` (0x${r.bugCheck.parameter1.toString(16).toUpperCase().padStart(2, '0')})` : ''}` : 'reported';
        console.log(`${r.id.padEnd(36)} ${stop.padEnd(12)} ${r.advice}`);
      }
    }
    return 0;
  },
};
