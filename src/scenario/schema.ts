import { PROTOCOLS, protocolNames, protocolSchema } from '../protocols/registry.js';
import { LIMITS, limitSchema } from './limits.js';

// A name that is also a file name, a Markdown word and a terminal word: no control characters, no markup.
const NAME = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', 'x-fix': 'use letters, digits, dot, dash and underscore' };
// Text without control characters (a description goes into reports and terminals as one paragraph).
const TEXT = { type: 'string', pattern: '^[^\\u0000-\\u001f\\u007f]*$', 'x-fix': 'one line of text without control characters' };
const ARGV = {
  type: 'array',
  items: { type: 'string' },
  'x-fix': 'must be an array of strings (an argument vector)',
};
const PATH = {
  type: 'string',
  pattern: '^/(?!/)',
  'x-fix': 'must be a path starting with one "/" (load goes to loopback only; no host or URL)',
};
const SIGNALS = ['SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGWINCH'];

/**
 * The scenario format as a JSON Schema (draft-07), built from the limits table: `npm run build`
 * writes it to schema/scenario.schema.json (shipped scenarios name it in `$schema`, so editors
 * complete and check fields), and loadScenario validates with it through ajv.
 */
/** How ajv validates a scenario (at run time and in the build's precompiled validator); verbose: each error carries the offending value and its schema node (for the fix it names). */
export const SCENARIO_AJV_OPTIONS = { allErrors: false, strict: false, verbose: true } as const;

export function scenarioSchema(servers: readonly string[], defaultServer: string): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://memcompare.dev/schema/scenario.schema.json',
    title: 'memcompare scenario',
    description: 'Variants of a pre-forking server to boot, warm, settle and measure (memcompare run SCENARIO).',
    type: 'object',
    additionalProperties: false,
    required: ['name', 'command', 'variants'],
    properties: {
      $schema: { type: 'string' },
      name: { ...NAME, description: 'The scenario name (memcompare run NAME for shipped ones).' },
      description: { ...TEXT, description: 'What the scenario shows, one paragraph.' },
      server: {
        type: 'string',
        enum: [...servers],
        default: defaultServer,
        description: 'Server family: its stop and reload signals, which processes are workers.',
        'x-fix': `unknown server family; use one of: ${servers.join(', ')}`,
      },
      app: {
        type: 'string',
        minLength: 1,
        description: "The server's working directory, relative to the scenario file (kept inside its folder) unless absolute.",
      },
      command: {
        ...ARGV,
        minItems: 1,
        description: 'The server command as an argument vector; {port} and {workers} are filled in.',
      },
      workers: limitSchema(LIMITS.workers, 'Workers to expect, and the value of {workers}. Without it, read from the command or detected.'),
      env: {
        type: 'object',
        additionalProperties: { type: 'string' },
        description:
          "Environment every variant starts from ({port}, {workers} and {services.NAME.port} filled in); a variant's own env keys win. The warm-up command sees it too.",
      },
      variants: {
        type: 'array',
        minItems: 1,
        description: 'What is compared: each variant appends args to command, or has a command of its own.',
        'x-fix': 'must be a non-empty array of {name, args}',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            name: NAME,
            args: { ...ARGV, description: 'Arguments appended to command.' },
            env: {
              type: 'object',
              additionalProperties: { type: 'string' },
              description:
                'Extra environment variables ({port}, {workers} and {services.NAME.port} filled in), on top of the scenario env; the warm-up command sees them too.',
            },
            command: { ...ARGV, minItems: 1, description: 'A whole command of its own instead of the scenario command.' },
            server: {
              type: 'string',
              enum: [...servers],
              description: "This variant's server family, when it differs from the scenario's (one server against another).",
              'x-fix': `unknown server family; use one of: ${servers.join(', ')}`,
            },
            refork: {
              type: 'boolean',
              description:
                'After the first measurement, ask the server to fork its workers anew from a warm one (its refork signal); the new generation is warmed again, settled and measured, and the totals before, right after and warm again are recorded.',
            },
          },
        },
      },
      warmup: {
        type: 'object',
        additionalProperties: false,
        description: 'Requests sent to every worker before measuring.',
        properties: {
          requests: limitSchema(
            LIMITS.warmupRequests,
            'Requests of the warm-up (with until steady: of its first round). Given without until, a fixed count.',
          ),
          connections: limitSchema(LIMITS.warmupConnections, 'Concurrent connections (at most requests).'),
          path: { ...PATH, default: '/', description: 'The path asked on 127.0.0.1.' },
          protocol: {
            type: 'string',
            enum: protocolNames(),
            description: `What the warm-up speaks: ${PROTOCOLS.filter((p) => p.describe !== '')
              .map((p) => p.describe)
              .join(', or ')}.`,
            'x-fix': `use ${protocolNames().join(' or ')}`,
          },
          // Each protocol's own settings (protocols/): a script and a socket, a command and its bound.
          ...protocolSchema(),
          until: {
            type: 'string',
            enum: ['count', 'steady'],
            description:
              "steady (the default unless requests is given): rounds of growing size until the workers' private memory grows less than 1 KiB per request, or than 0.5% of the total PSS per 400 requests (at most 50 rounds, 100,000 requests and 120 s); count: the requests given, once",
            'x-fix': 'use count or steady',
          },
          workerPidHeader: {
            type: 'string',
            pattern: '^[A-Za-z0-9-]+$',
            default: 'X-Worker-Pid',
            'x-fix': 'must be an HTTP header name',
            description: "A response header holding the serving worker's pid.",
          },
        },
      },
      settle: {
        type: 'object',
        additionalProperties: false,
        description: 'When memory has settled after the warm-up.',
        properties: {
          intervalMs: limitSchema(LIMITS.settleIntervalMs, 'Time between samples.'),
          tolerancePercent: limitSchema(LIMITS.settleTolerancePercent, 'Largest change of total PSS between still samples.'),
          stableSamples: limitSchema(LIMITS.settleStableSamples, 'Still samples in a row.'),
          timeoutMs: limitSchema(LIMITS.settleTimeoutMs, 'Bound on settling.'),
        },
      },
      config: {
        type: 'object',
        additionalProperties: false,
        required: ['template'],
        description:
          'A configuration file of the app filled with {port}, {workers} and {app} into a temporary copy per run; {config} in the command names the copy (-y {config}).',
        properties: { template: { type: 'string', minLength: 1, description: 'The template, relative to the app folder.' } },
      },
      services: {
        type: 'array',
        description:
          'Companion services (a broker, a database) started once before the variants on free loopback ports, never measured, stopped last.',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'command'],
          properties: {
            name: NAME,
            command: {
              ...ARGV,
              minItems: 1,
              description: 'Its command; {port} is its free loopback port ({services.NAME.port} elsewhere).',
            },
            ready: {
              type: 'object',
              additionalProperties: false,
              description: 'Ready when its port accepts connections (the default), when a file exists, or when a command succeeds.',
              properties: { file: { type: 'string', minLength: 1 }, command: { ...ARGV, minItems: 1 } },
            },
            timeoutSeconds: { type: 'integer', minimum: 1, maximum: 3600, default: 30, description: 'Bound on becoming ready.' },
          },
        },
      },
      runs: limitSchema(LIMITS.runs, 'Runs per variant, interleaved.'),
      bootTimeoutSeconds: limitSchema(LIMITS.bootTimeoutSeconds, 'Bound on the server becoming ready.'),
      soak: {
        type: 'object',
        additionalProperties: false,
        required: ['durationSeconds'],
        description: 'Load kept on after the warm-up while the tree is sampled.',
        properties: {
          durationSeconds: limitSchema(LIMITS.soakSeconds, 'How long.'),
          connections: limitSchema(LIMITS.soakConnections, 'Concurrent connections.'),
          rate: limitSchema(LIMITS.soakRate, 'Requests per second (unbounded without it).'),
          intervalMs: limitSchema(LIMITS.samplerIntervalMs, 'Time between samples.'),
          maxCpuPercent: limitSchema(LIMITS.maxCpuPercent, "The sampler's CPU budget."),
        },
      },
      throughput: {
        description:
          'Requests per second and latency under a closed loop of connections for a fixed time, after the memory is sampled (every run has it unless this is false).',
        oneOf: [
          { const: false },
          {
            type: 'object',
            additionalProperties: false,
            properties: {
              durationSeconds: limitSchema(LIMITS.throughputSeconds, 'How long the load runs.'),
              connections: limitSchema(LIMITS.throughputConnections, 'Connections kept busy (default: twice the workers, at least 8).'),
            },
          },
        ],
      },
      routes: {
        type: 'array',
        minItems: 1,
        maxItems: 20,
        description:
          "The app's routes (HTTP): the warm-up and its steady rounds send each its share, the soak sends them one at a time in turn (each one's growth and transient peak told apart), the throughput phase sends the mix. Replaces warmup.path.",
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['path'],
          properties: {
            path: { ...PATH, description: 'The path asked on 127.0.0.1.' },
            method: { type: 'string', pattern: '^[A-Z]+$', default: 'GET', 'x-fix': 'an HTTP method in capitals (GET, POST)' },
            body: { type: 'string', description: 'The request body.' },
            headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Request headers.' },
            weight: {
              type: 'number',
              exclusiveMinimum: 0,
              maximum: 1000,
              default: 1,
              'x-fix': 'a share above 0 (at most 1000)',
              description: "Its share of the mix against the others'.",
            },
          },
        },
      },
      reload: {
        type: 'object',
        additionalProperties: false,
        required: ['edit'],
        description: 'Edit the app (in a copy), send the reload signal, ask again: does the reload pick up the change?',
        properties: {
          edit: {
            type: 'object',
            additionalProperties: false,
            required: ['file', 'replace', 'with'],
            properties: {
              file: { type: 'string', minLength: 1, description: 'A file of the app, relative to its folder.' },
              replace: { type: 'string', minLength: 1, description: 'Text the file holds.' },
              with: { type: 'string', minLength: 1, description: 'What it becomes.' },
            },
          },
          path: { ...PATH, default: '/' },
          signal: { type: 'string', enum: SIGNALS, 'x-fix': `use one of: ${SIGNALS.join(', ')}` },
          timeoutSeconds: limitSchema(LIMITS.reloadTimeoutSeconds, 'Bound on the replacement of every worker.'),
        },
      },
    },
  };
}
