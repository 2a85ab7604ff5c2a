/**
 * The layering, enforced (`pnpm lint` runs it; see DESIGN's "Dependencies point one way").
 * Workspace packages resolve through their node_modules links to their real folders, so a rule
 * on `packages/api/` catches `@colloquy/api` and relative paths alike.
 * @type {import('dependency-cruiser').IConfiguration}
 */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, type-only ones included (a cycle makes load order and layering unclear).',
      from: { path: '^(apps|packages|tooling|bench)/' },
      to: { circular: true },
    },
    {
      name: 'store-agents-standalone',
      severity: 'error',
      comment: 'store and agents import no other workspace package: the turn service in api joins them.',
      from: { path: '^packages/(store|agents)/src/' },
      to: { path: '^(apps|packages|tooling|bench)/', pathNot: '^packages/$1/' },
    },
    {
      name: 'services-not-procedures',
      severity: 'error',
      comment: 'api services take (deps, actor): never the tRPC context, the procedure builders or a procedure folder.',
      from: { path: '^packages/api/src/services/' },
      to: { path: '^packages/api/src/((context|trpc|root)\\.ts$|(conversations|files|messages|chat|clients|agents)/)' },
    },
    {
      name: 'sdk-types-only-from-api',
      severity: 'error',
      comment: 'The SDK imports only types from api (the router stays on the server).',
      from: { path: '^packages/sdk/src/' },
      to: { path: '^packages/api/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'sdk-no-server-packages',
      severity: 'error',
      comment: 'The SDK runs in browsers too: no store, agents or server code.',
      from: { path: '^packages/sdk/src/' },
      to: { path: '^(apps|packages/(store|agents)|tooling|bench)/' },
    },
    {
      name: 'packages-not-apps',
      severity: 'error',
      comment: 'Dependencies point one way: apps -> packages, never back.',
      from: { path: '^(packages|tooling)/' },
      to: { path: '^(apps|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|\\.turbo)/' },
    // Type-only imports are dependencies too (for cycles), told apart for the SDK's rule.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'types', 'default'], extensions: ['.ts', '.tsx', '.mjs', '.js', '.d.ts'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
