// Preloaded into every test process (`node --import`): records anything written through
// `console` or emitted as a process warning (a MaxListenersExceededWarning from a leaked
// abort listener, say) and fails the process at exit. The library must never print.
const seen: string[] = [];
const methods = [
  'log',
  'info',
  'warn',
  'error',
  'debug',
  'trace',
  'dir',
  'dirxml',
  'table',
  'group',
  'groupCollapsed',
  'count',
  'time',
  'timeLog',
  'timeEnd',
  'assert',
] as const;
const target = console as unknown as Record<string, (...args: unknown[]) => void>;
for (const method of methods) {
  target[method] = (...args: unknown[]) => {
    seen.push(
      `console.${method}(${args
        .map((a) => String(a))
        .join(', ')
        .slice(0, 200)})`,
    );
  };
}
process.on('warning', (warning) => {
  seen.push(`process warning ${warning.name}: ${warning.message}`);
});
process.on('exit', () => {
  if (seen.length === 0) return;
  process.stderr.write(
    `no-console guard: ${seen.length} console write(s) or warning(s) in ${process.argv[1] ?? 'this process'}:\n${seen.join('\n')}\n`,
  );
  process.exitCode = 1;
});
export {};
