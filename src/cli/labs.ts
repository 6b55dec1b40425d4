import { createServices } from '../main/services';
import { type Command, parseOptions } from './command';

export const labsCommand: Command = {
  summary: 'list the guided labs [--json]',
  async run(args, { appRoot }) {
    const { values } = parseOptions(args, { json: { type: 'boolean', default: false } });
    const { labs, problems } = await createServices(appRoot).catalog.list();
    if (values.json) {
      console.log(JSON.stringify({ labs, problems }));
    } else {
      for (const lab of labs) console.log(`${lab.id.padEnd(28)} ${lab.title}`);
      for (const p of problems) console.error(`${p.file}${p.path ? `: ${p.path}` : ''}: ${p.message}`);
    }
    return problems.length === 0 ? 0 : 2;
  },
};
