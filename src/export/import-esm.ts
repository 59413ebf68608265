type Importer = (specifier: string) => Promise<unknown>;

/**
 * import() of an ES module package (vega, vega-lite). The CommonJS bundle runs inside vm.Script,
 * where Node 20 allows no import(); bin/memcompare.cjs lends its own, a real module's, instead.
 */
export function importEsm<T>(specifier: string): Promise<T> {
  const bridge = (globalThis as { __memcompareImport?: Importer }).__memcompareImport;
  return (bridge ? bridge(specifier) : import(specifier)) as Promise<T>;
}
