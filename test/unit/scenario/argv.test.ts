import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandCommand, splitCommand } from '../../../src/scenario/argv.js';

describe('splitCommand', () => {
  it('splits words like a shell, without running one', () => {
    assert.deepEqual(splitCommand(`gunicorn -b 127.0.0.1:{port} --env 'A=b c' "x\\"y" a\\ b`), [
      'gunicorn',
      '-b',
      '127.0.0.1:{port}',
      '--env',
      'A=b c',
      'x"y',
      'a b',
    ]);
    assert.deepEqual(splitCommand('echo $(rm -rf /) ; ls'), ['echo', '$(rm', '-rf', '/)', ';', 'ls']);
    assert.deepEqual(splitCommand(`a '' b`), ['a', '', 'b']);
  });
  it('refuses an unterminated quote', () => {
    assert.throws(() => splitCommand(`gunicorn 'app`), /unterminated ' quote/);
  });
  it('fills placeholders inside one argument: a value never adds arguments', () => {
    assert.deepEqual(expandCommand(['-b', '127.0.0.1:{port}', '-w', '{workers}'], { port: 8000, workers: 5 }), [
      '-b',
      '127.0.0.1:8000',
      '-w',
      '5',
    ]);
  });
});
