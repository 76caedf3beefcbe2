import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePolicyText } from '../policy/load.js';
import { PolicyError } from '../policy/policy-error.js';
import { actionsFor, mappingsOf, unmappedType } from './tool-mapping.js';

const files = mappingsOf({ preset: 'filesystem', tools: {} });

test('filesystem tools become fs.* actions on their paths; other arguments pass through', () => {
  assert.deepEqual(actionsFor('files', 'write_file', { path: '/d/a', content: 'x' }, files), [
    { type: 'fs.write', params: { path: '/d/a', content: 'x' } },
  ]);
  assert.deepEqual(actionsFor('files', 'read_multiple_files', { paths: ['/d/a', '/d/b'] }, files), [
    { type: 'fs.read', params: { path: '/d/a' } },
    { type: 'fs.read', params: { path: '/d/b' } },
  ]);
  assert.deepEqual(actionsFor('files', 'move_file', { source: '/d/a', destination: '/e/a' }, files), [
    { type: 'fs.write', params: { path: '/e/a' } },
    { type: 'fs.delete', params: { path: '/d/a' } },
  ]);
});

test('a missing mapped argument still yields an action, without the param (so it is refused, not skipped)', () => {
  assert.deepEqual(actionsFor('files', 'read_file', {}, files), [{ type: 'fs.read', params: {} }]);
  assert.deepEqual(actionsFor('files', 'read_multiple_files', { paths: [] }, files), [
    { type: 'fs.read', params: {} },
  ]);
  assert.deepEqual(actionsFor('files', 'read_multiple_files', { paths: 'not-a-list' }, files), [
    { type: 'fs.read', params: {} },
  ]);
});

test('unmapped tools become mcp.<server>.<tool>, the name made a valid type segment', () => {
  assert.deepEqual(actionsFor('gh', 'create_issue', { title: 't' }, files), [
    { type: 'mcp.gh.create_issue', params: { title: 't' } },
  ]);
  assert.equal(unmappedType('everything', 'longRunningOperation'), 'mcp.everything.longrunningoperation');
  assert.equal(unmappedType('x', 'get.thing/now'), 'mcp.x.get_thing_now');
});

test('a policy mapping overrides the preset tool by tool', () => {
  const policy = parsePolicyText(`
mcp:
  servers:
    files:
      preset: filesystem
      tools:
        read_file: { type: doc.read, params: { doc: path } }
`);
  const mappings = mappingsOf(policy.config.mcp.servers.files as never);
  assert.deepEqual(actionsFor('files', 'read_file', { path: '/a' }, mappings), [
    { type: 'doc.read', params: { doc: '/a' } },
  ]);
  assert.deepEqual(actionsFor('files', 'write_file', { path: '/a' }, mappings), [
    { type: 'fs.write', params: { path: '/a' } },
  ]);
});

test('a bad mcp section is refused at load, naming the field', () => {
  const bad = (text: string) => {
    try {
      parsePolicyText(text, 'p.yaml');
    } catch (error) {
      assert.ok(error instanceof PolicyError);
      return error.message;
    }
    assert.fail('expected a PolicyError');
  };
  assert.match(bad('mcp:\n  servers:\n    Files: { command: x }\n'), /p\.yaml:3:\d+: .*lowercase/);
  assert.match(bad("mcp:\n  servers:\n    f: { command: x, url: 'http://h/mcp' }\n"), /not both/);
  assert.match(
    bad('mcp:\n  servers:\n    f: { tools: { t: { type: NotAType } } }\n'),
    /mcp\.servers\.f\.tools\.t.*action type/,
  );
  assert.match(bad('mcp:\n  pinning: never\n'), /mcp\.pinning/);
});
