// Writes schema/scenario.schema.json from the limits table (npm run schema); a unit test fails when the committed file differs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/paths.js';
import { scenarioSchema } from '../src/scenario/schema.js';
import { DEFAULT_FAMILY, familyNames } from '../src/servers/registry.js';

writeFileSync(
  join(packageRoot(), 'schema', 'scenario.schema.json'),
  `${JSON.stringify(scenarioSchema(familyNames(), DEFAULT_FAMILY.name), null, 2)}\n`,
);
