// Layers point one way. `npm run lint` runs dependency-cruiser twice with this file:
// - over everything (tests, benchmarks and test support included): no import cycle between files;
// - over the product's code (tests, fixtures, test support and benchmarks left out, see package.json lint:deps):
//   no import cycle between folders either. Tests may reach up to test/support, which reaches the code they test;
//   that is a test's dependency, not a layer of the product.
/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-file-cycle',
      severity: 'error',
      comment: 'A file must not import itself through other files.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-folder-cycle',
      severity: 'error',
      comment: 'A folder must not import itself through other folders: layers point one way.',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|build|coverage)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs'] },
  },
};
